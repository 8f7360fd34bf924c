// Follows a VHDX's pointers while the stream passes: the region table (fixed, at 192 KiB) names the metadata
// region, whose table names the "virtual disk size" item. Each hop captures at most a fixed number of bytes,
// wherever the header points. Mirrors oslo.utils' VHDXInspector, including when it counts as incomplete.

struct VHDXScan: Sendable, Equatable {
    static let identity = ascii("vhdxfile")
    static let regionTableOffset = 192 * 1024
    static let headerEnd: Int64 = 256 * 1024
    static let regionTableSignature: UInt32 = 0x6967_6572  // "regi"
    /// One table header plus the 2047 entries qemu allows; the most of the metadata region ever kept.
    static let metadataCapture = 32 * 2048
    static let maxEntries = 2047
    /// GUIDs as stored on disk (first three fields little-endian).
    static let metadataRegionGUID: [UInt8] = [
        0x06, 0xA2, 0x7C, 0x8B, 0x90, 0x47, 0x9A, 0x4B, 0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E,
    ]
    static let virtualDiskSizeGUID: [UInt8] = [
        0x24, 0x42, 0xA5, 0x2F, 0x1B, 0xCD, 0x76, 0x48, 0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8,
    ]

    enum Stage: Sendable, Equatable {
        case waitingForHeader
        case readingMetadata(CaptureRegion)
        case readingSize(CaptureRegion)
        /// Parsing ended; `complete` is whether oslo would consider every region it asked for captured.
        case finished(virtualSize: Int64?, complete: Bool)
        case notVHDX
    }

    private(set) var stage: Stage = .waitingForHeader

    var retainedBytes: Int {
        switch stage {
        case .readingMetadata(let region), .readingSize(let region): region.retainedBytes
        default: 0
        }
    }

    /// The next stream position at which `advance` has something to decide, if any.
    var nextDecision: Int64? {
        switch stage {
        case .waitingForHeader:
            return Self.headerEnd
        case .readingMetadata(let region):
            guard let needed = Self.metadataBytesNeeded(region.data) else { return nil }
            let (end, overflow) = region.offset.addingReportingOverflow(Int64(needed))
            return overflow ? nil : end
        default:
            return nil
        }
    }

    mutating func capture(_ segment: UnsafeRawBufferPointer, at start: Int64) {
        switch stage {
        case .readingMetadata(var region):
            region.capture(segment, at: start)
            stage = .readingMetadata(region)
        case .readingSize(var region):
            region.capture(segment, at: start)
            stage = .readingSize(region)
        default:
            break
        }
    }

    /// Moves through every stage the bytes seen so far allow.
    mutating func advance(prefix: [UInt8], position: Int64) {
        while true {
            let before = stage
            step(prefix: prefix, position: position)
            if stage == before { return }
        }
    }

    private mutating func step(prefix: [UInt8], position: Int64) {
        switch stage {
        case .waitingForHeader:
            guard position >= Self.headerEnd else { return }
            guard prefix.starts(with: Self.identity) else {
                stage = .notVHDX
                return
            }
            stage = findMetadataRegion(prefix: prefix, position: position)
        case .readingMetadata(let region):
            if let next = findSizeItem(metadata: region, prefix: prefix, position: position) {
                stage = next
            }
        case .readingSize, .finished, .notVHDX:
            return
        }
    }

    private func findMetadataRegion(prefix: [UInt8], position: Int64) -> Stage {
        let table = Self.regionTableOffset
        // oslo raises on a bad signature or count; its header region is complete by then, so the file counts as
        // a complete VHDX whose size is unknown.
        guard prefix.uint32LE(table) == Self.regionTableSignature,
              let count = prefix.uint32LE(table + 8), count < 2048
        else { return .finished(virtualSize: nil, complete: true) }
        for index in 0..<Int(count) {
            let entry = table + 16 + index * 32
            guard let guid = prefix.bytes(at: entry, count: 16), guid.elementsEqual(Self.metadataRegionGUID) else {
                continue
            }
            guard let offset = prefix.uint64LE(entry + 16)?.asSize else {
                return .finished(virtualSize: nil, complete: false)
            }
            let region = CaptureRegion(
                offset: offset, length: Self.metadataCapture, position: position,
                earlier: { prefix.bytes(at: Int(clamping: $0), count: $1) }
            )
            return .readingMetadata(region)
        }
        return .finished(virtualSize: nil, complete: true)
    }

    /// How many metadata bytes the next decision needs: the 32-byte table header, then every entry.
    private static func metadataBytesNeeded(_ data: [UInt8]) -> Int? {
        guard data.count >= 32 else { return 32 }
        guard let count = data.uint16LE(10), Int(count) <= maxEntries else { return nil }
        return 32 + Int(count) * 32
    }

    private func findSizeItem(metadata region: CaptureRegion, prefix: [UInt8], position: Int64) -> Stage? {
        if region.unreachable { return .finished(virtualSize: nil, complete: false) }
        let data = region.data
        guard data.count >= 32 else { return nil }
        // A bad table signature stops oslo's inspector before its metadata region completes.
        guard data.starts(with: ascii("metadata")) else { return .finished(virtualSize: nil, complete: false) }
        guard let count = data.uint16LE(10), Int(count) <= Self.maxEntries else {
            // oslo waits for entries that cannot fit, so the region completes only once all 64 KiB are there.
            return region.isComplete ? .finished(virtualSize: nil, complete: true) : nil
        }
        guard data.count >= 32 + Int(count) * 32 else { return nil }
        for index in 0..<Int(count) {
            let entry = 32 + index * 32
            guard let guid = data.bytes(at: entry, count: 16), guid.elementsEqual(Self.virtualDiskSizeGUID),
                  let itemOffset = data.uint32LE(entry + 16)
            else { continue }
            let (offset, overflow) = region.offset.addingReportingOverflow(Int64(itemOffset))
            if overflow { return .finished(virtualSize: nil, complete: false) }
            let size = CaptureRegion(offset: offset, length: 8, position: position) { start, count in
                // Already-streamed bytes are in the metadata capture (or, before it, in the kept prefix).
                let inMetadata = start - region.offset
                if inMetadata >= 0, let bytes = data.bytes(at: Int(clamping: inMetadata), count: count) { return bytes }
                return prefix.bytes(at: Int(clamping: start), count: count)
            }
            return .readingSize(size)
        }
        // No size item: oslo keeps capturing until its 64 KiB metadata region is full.
        return region.isComplete ? .finished(virtualSize: nil, complete: true) : nil
    }

    /// The verdict once the stream has ended.
    func outcome(total: Int64) -> (virtualSize: Int64?, complete: Bool) {
        switch stage {
        case .waitingForHeader, .notVHDX:
            return (nil, false)
        case .readingMetadata(let region):
            // Still here at the end: no size item was found (or none could be), so only a full capture completes.
            return (nil, region.isComplete)
        case .readingSize(let region):
            guard region.isComplete else { return (nil, false) }
            return (region.data.uint64LE(0)?.asSize, true)
        case .finished(let virtualSize, let complete):
            return (virtualSize, complete)
        }
    }
}
