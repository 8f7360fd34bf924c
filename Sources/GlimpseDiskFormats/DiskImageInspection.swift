// What an image is, once its whole stream has been seen, and Glance 33's decision on it for a declared
// disk_format (glance/location.py ImageProxy.set_data with oslo.utils' InspectWrapper).

public struct DiskImageInspection: Sendable, Equatable {
    /// What the data is (raw when nothing else matched; ISO when it is both ISO and MBR/GPT; the first match
    /// in detection order when several formats matched, which `verdict` refuses).
    public var format: DiskFormat
    /// Of the detected format; nil when it cannot be known. For raw (and GPT, QED) the byte count.
    public var virtualSize: Int64?
    /// Why it is unsafe, for logs ("check: reason"); empty = safe.
    public var safetyViolations: [String]
    /// Every format other than raw whose signature matched, in detection order. More than one is refused,
    /// except exactly ISO + GPT (a bootable ISO carries an MBR).
    public var matchedFormats: [DiskFormat]
    /// Whether every header region the detected format needs was in the stream (a truncated header is not).
    public var isComplete: Bool
    /// qcow2 with crypt_method set, or LUKS. Glance accepts these; recorded for callers that care.
    public var isEncrypted: Bool
    /// Bytes in the stream.
    public var bytesSeen: Int64

    static let probes: [@Sendable (ImageEvidence) -> FormatFinding?] = [
        QCOW2Probe.probe, VHDProbe.probe, VHDXProbe.probe, VMDKProbe.probe, VDIProbe.probe, QEDProbe.probe,
        ISOProbe.probe, GPTProbe.probe, LUKSProbe.probe,
    ]

    init(evidence: ImageEvidence) {
        let findings = Self.probes.compactMap { $0(evidence) }
        let chosen = findings.first { $0.format == .iso && Set(findings.map(\.format)) == [.iso, .gpt] }
            ?? findings.first
            ?? FormatFinding(format: .raw, virtualSize: evidence.total)
        format = chosen.format
        virtualSize = chosen.virtualSize
        safetyViolations = chosen.violations
        matchedFormats = findings.map(\.format)
        isComplete = chosen.complete
        isEncrypted = chosen.encrypted
        bytesSeen = evidence.total
    }

    /// Glance 33's rules against the declared disk_format: a single detected format (ISO + GPT counts as ISO);
    /// then the format-match rule (the declared format; raw accepts any format and records the byte count;
    /// a format Glance cannot inspect, such as ami or ploop, accepts only data nothing recognised); then the
    /// detected format must be completely seen and pass its safety checks. Accepted gives the virtual_size
    /// Glance would record for that declared format (nil where Glance records none).
    public func verdict(declaredFormat: String) -> DiskImageVerdict {
        if matchedFormats.count > 1, Set(matchedFormats) != [.iso, .gpt] {
            let names = matchedFormats.map(\.rawValue).joined(separator: ",")
            return .refused(.inspectionFailed(reason: "Multiple formats detected: \(names)"))
        }
        let recorded: Int64?
        if format.rawValue == declaredFormat {
            recorded = virtualSize
        } else if format == .raw, DiskFormat(rawValue: declaredFormat) == nil {
            recorded = nil
        } else if declaredFormat == DiskFormat.raw.rawValue {
            recorded = bytesSeen
        } else {
            return .refused(.formatMismatch(declared: declaredFormat, detected: format.rawValue))
        }
        guard isComplete else {
            return .refused(.inspectionFailed(reason: "Incomplete file cannot be safety checked"))
        }
        guard safetyViolations.isEmpty else {
            return .refused(.failedSafetyChecks(reasons: safetyViolations))
        }
        // Glance only records a virtual size that is known and not zero.
        return .accepted(virtualSize: recorded.flatMap { $0 > 0 ? $0 : nil })
    }
}
