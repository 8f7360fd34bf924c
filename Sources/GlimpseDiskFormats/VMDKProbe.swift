// VMDK: the hosted sparse extent header ("KDMV") with its embedded text descriptor at sector 1, or a bare text
// descriptor file. Matching, sizes and the descriptor rules follow oslo.utils' VMDKInspector; on top of those,
// Glimpse refuses every way a VMDK can make qemu open another file (see `extraViolations`).

enum VMDKProbe {
    static let magic = ascii("KDMV")
    static let minimumHeader = 64
    static let grainDirectoryAtEnd = UInt64.max
    static let allowedTypes: Set<String> = ["monolithicsparse", "streamoptimized"]

    struct SparseHeader: Equatable {
        var version: UInt32
        var capacitySectors: UInt64
        var descriptorSector: UInt64
        var descriptorSectors: UInt64
        var grainDirectoryOffset: UInt64

        init?(_ bytes: [UInt8], at base: Int = 0) {
            guard bytes.starts(with: VMDKProbe.magic, at: base),
                  let version = bytes.uint32LE(base + 4), let capacity = bytes.uint64LE(base + 12),
                  let descriptorSector = bytes.uint64LE(base + 28), let descriptorSectors = bytes.uint64LE(base + 36),
                  let grainDirectory = bytes.uint64LE(base + 56)
            else { return nil }
            self.version = version
            capacitySectors = capacity
            self.descriptorSector = descriptorSector
            self.descriptorSectors = descriptorSectors
            grainDirectoryOffset = grainDirectory
        }

        /// The embedded descriptor's length: qemu and oslo cap it at 1 MiB - 1, whatever the header claims.
        var descriptorLength: Int {
            let (bytes, overflow) = descriptorSectors.multipliedReportingOverflow(by: 512)
            return overflow ? DiskImageInspector.vmdkDescriptorMax
                : Int(min(bytes, UInt64(DiskImageInspector.vmdkDescriptorMax)))
        }
    }

    /// How much of the file's start must be kept to read the descriptor, judged from the first sector.
    static func bytesNeeded(firstSector: [UInt8]) -> Int {
        if let header = SparseHeader(firstSector) {
            return header.descriptorSector == 1 ? DiskImageInspector.vmdkDescriptorOffset + header.descriptorLength : 0
        }
        return looksLikeText(firstSector) ? DiskImageInspector.vmdkDescriptorMax : 0
    }

    /// Python's test on the first sector: ASCII, every character printable or whitespace.
    static func looksLikeText(_ bytes: [UInt8]) -> Bool {
        bytes.prefix(512).allSatisfy { (0x20...0x7E).contains($0) || VMDKDescriptor.isWhitespace($0) }
    }

    static func probe(_ evidence: ImageEvidence) -> FormatFinding? {
        let prefix = evidence.prefix
        guard prefix.starts(with: magic) else { return textDescriptorProbe(evidence) }
        var finding = FormatFinding(format: .vmdk, virtualSize: 0)
        guard evidence.has(minimumHeader), let header = SparseHeader(prefix) else {
            finding.complete = false
            return finding
        }
        guard (1...3).contains(header.version) else {
            finding.violations.append("descriptor: Unsupported VMDK version \(header.version)")
            return finding
        }
        guard header.descriptorSector == 1 else {
            finding.violations.append("descriptor: Wrong descriptor location")
            return finding
        }
        let start = DiskImageInspector.vmdkDescriptorOffset
        let length = header.descriptorLength
        guard evidence.has(start + length), let raw = prefix.bytes(at: start, count: length) else {
            finding.complete = false
            return finding
        }
        let descriptor = VMDKDescriptor(Array(raw))
        if let descriptor, !descriptor.text.isEmpty, allowedTypes.contains(descriptor.createType) {
            finding.virtualSize = header.capacitySectors.times(512)
        }
        if let problem = descriptorProblem(descriptor) ?? extraProblem(descriptor, header: header) {
            finding.violations.append("descriptor: \(problem)")
        }
        if header.grainDirectoryOffset == grainDirectoryAtEnd {
            if evidence.tail.count < DiskImageInspector.tailLength {
                finding.complete = false
            } else if let problem = footerProblem(evidence.tail, header: header) {
                finding.violations.append("footer: \(problem)")
            }
        }
        return finding
    }

    /// A descriptor file with no sparse header: its extents are always other files, so Glimpse refuses it
    /// whatever it names (oslo only refuses names containing "/", and same-directory names would reach other
    /// images in the store).
    private static func textDescriptorProbe(_ evidence: ImageEvidence) -> FormatFinding? {
        // oslo needs 64 bytes before it decides the file is text.
        guard evidence.has(minimumHeader), looksLikeText(evidence.prefix) else { return nil }
        let length = min(evidence.prefix.count, DiskImageInspector.vmdkDescriptorMax)
        guard let descriptor = VMDKDescriptor(Array(evidence.prefix[0..<length])),
              descriptor.createType != VMDKDescriptor.formatNotFound
        else { return nil }
        var finding = FormatFinding(format: .vmdk, virtualSize: descriptor.extentSectors.times(512))
        let problem = descriptorProblem(descriptor)
            ?? "Descriptor file without an embedded sparse extent: its extents are other files"
        finding.violations.append("descriptor: \(problem)")
        return finding
    }

    /// oslo's check_descriptor, in its order.
    private static func descriptorProblem(_ descriptor: VMDKDescriptor?) -> String? {
        guard let descriptor, !descriptor.text.isEmpty else { return "No descriptor found" }
        guard allowedTypes.contains(descriptor.createType) else { return "Unsupported subformat" }
        guard descriptor.unknownLine == nil else { return "Invalid VMDK descriptor data" }
        if descriptor.extents.contains(where: { $0.line.contains("/") }) { return "Invalid extent filenames found" }
        if descriptor.extents.isEmpty { return "No extents found" }
        return nil
    }

    /// Stricter than oslo: qemu opens other files from an embedded descriptor when the capacity is 0 (it then
    /// reads the descriptor's extents instead of the sparse header), when it names more than its own sparse
    /// extent, and when it names a parent (`parentFileNameHint`, a backing file).
    private static func extraProblem(_ descriptor: VMDKDescriptor?, header: SparseHeader) -> String? {
        guard let descriptor else { return nil }
        if header.capacitySectors == 0 { return "Sparse header with zero capacity defers to descriptor extents" }
        if descriptor.extents.count != 1 || descriptor.extents.first?.type != "sparse" {
            return "Extents other than the single embedded sparse extent"
        }
        if descriptor.headerFields.contains(where: { $0.hasPrefix("parentfilenamehint") }) {
            return "Descriptor names a parent (backing) file"
        }
        return nil
    }

    /// oslo's check_footer on the last 1536 bytes: footer marker, a footer header agreeing with the header, and
    /// an end-of-stream marker.
    private static func footerProblem(_ tail: [UInt8], header: SparseHeader) -> String? {
        guard let footer = SparseHeader(tail, at: 512) else {
            return tail.starts(with: magic, at: 512) ? "Footer is truncated" : "Header and footer signature do not match"
        }
        if footer.version != header.version { return "Header and footer versions do not match" }
        if footer.descriptorSector != header.descriptorSector || footer.descriptorSectors != header.descriptorSectors {
            return "Footer specifies a different descriptor than header"
        }
        if footer.grainDirectoryOffset == grainDirectoryAtEnd { return "Footer indicates another footer" }
        func isMarker(at base: Int, value: UInt64?, type: UInt32) -> Bool {
            guard let markerValue = tail.uint64LE(base), tail.uint32LE(base + 8) == 0,
                  tail.uint32LE(base + 12) == type, let padding = tail.bytes(at: base + 16, count: 496)
            else { return false }
            return (value.map { $0 == markerValue } ?? true) && padding.allSatisfy { $0 == 0 }
        }
        if !isMarker(at: 0, value: nil, type: 3) { return "Footer marker is invalid" }
        if !isMarker(at: 1024, value: 0, type: 0) { return "End-of-stream marker is invalid" }
        return nil
    }
}
