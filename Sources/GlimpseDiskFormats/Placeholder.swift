// TEMPORARY placeholder for the GlimpseDiskFormats module another branch is writing: just enough of its API
// (qcow2 data file / backing file, VMDK descriptors and sparse headers, raw) for the compute branch to compile and
// test against. To be deleted when the real module is merged.

public enum DiskFormat: String, Sendable { case raw, qcow2, vmdk }

public struct DiskImageRefusal: Sendable { public var message: String }

public enum DiskImageVerdict: Sendable {
    case accepted(virtualSize: Int64?)
    case refused(DiskImageRefusal)
}

public struct DiskImageInspection: Sendable {
    public var format: DiskFormat
    public var virtualSize: Int64?
    public var safetyViolations: [String]

    public func verdict(declaredFormat: String) -> DiskImageVerdict {
        if !safetyViolations.isEmpty { return .refused(.init(message: "Image failed safety checks")) }
        let declared = declaredFormat == "ami" ? "raw" : declaredFormat
        guard declared == format.rawValue else {
            return .refused(.init(message: "Image disk_format \(declaredFormat) does not match stream data \(format.rawValue)"))
        }
        return .accepted(virtualSize: virtualSize)
    }
}

public struct DiskImageInspector: Sendable {
    var head: [UInt8] = []
    var total: Int64 = 0
    public init() {}

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        total += Int64(bytes.count)
        if head.count < 65536 { head += bytes.prefix(65536 - head.count) }
    }

    func be(_ at: Int, _ n: Int) -> UInt64 {
        guard at >= 0, at + n <= head.count else { return 0 }
        return head[at..<(at + n)].reduce(0) { $0 << 8 | UInt64($1) }
    }

    func le(_ at: Int, _ n: Int) -> UInt64 {
        guard at >= 0, at + n <= head.count else { return 0 }
        return head[at..<(at + n)].reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    public func finish() -> DiskImageInspection {
        if be(0, 4) == 0x5146_49fb {
            var violations: [String] = []
            if be(8, 8) != 0 { violations.append("backing file") }
            if be(4, 4) >= 3, be(72, 8) & 0b100 != 0 { violations.append("data file") }
            return .init(format: .qcow2, virtualSize: Int64(clamping: be(24, 8)), safetyViolations: violations)
        }
        if le(0, 4) == 0x564d_444b {
            return .init(format: .vmdk, virtualSize: Int64(clamping: le(12, 8) &* 512), safetyViolations: [])
        }
        let text = String(decoding: head.prefix(4096), as: UTF8.self)
        if text.hasPrefix("# Disk DescriptorFile") {
            return .init(format: .vmdk, virtualSize: nil, safetyViolations: ["extents"])
        }
        return .init(format: .raw, virtualSize: total, safetyViolations: [])
    }
}
