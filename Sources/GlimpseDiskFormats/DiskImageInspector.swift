// The streaming front of the inspector: takes an image's bytes in order, in chunks of any size, and keeps only
// the bounded regions the format checks need (a prefix of the file, the last 1.5 KiB, and the VHDX metadata it
// is pointed to). Decisions are taken at exact stream positions, so the result never depends on chunk sizes.

/// Feed consecutive bytes of one image, in order; bounded memory whatever the image size.
public struct DiskImageInspector: Sendable {
    /// Kept for every image: covers the fixed headers of all formats (ISO's volume descriptor at 32 KiB, VHDX's
    /// region table at 192 KiB).
    static let headerWindow = 256 * 1024
    /// Where a VMDK descriptor may end: at sector 1, at most 1 MiB - 1 long (qemu's and oslo's limit).
    static let vmdkDescriptorOffset = 512
    static let vmdkDescriptorMax = (1 << 20) - 1
    static let largestPrefix = vmdkDescriptorOffset + vmdkDescriptorMax
    /// A streamOptimized VMDK footer: footer marker, footer header, end-of-stream marker.
    static let tailLength = 1536
    /// The most `retainedBytes` can ever be, whatever the input (with room for the allocator rounding up).
    static let retainedBytesLimit = largestPrefix + tailLength + VHDXScan.metadataCapture + 8 + 3 * 4096

    private var prefix: [UInt8] = []
    private var prefixLimit = headerWindow
    private var prefixLimitDecided = false
    private var tail = TailBuffer(capacity: tailLength)
    private var vhdx = VHDXScan()
    public private(set) var bytesSeen: Int64 = 0

    public init() {}

    /// Bytes the inspector holds right now (allocated capacity, not just the bytes in use).
    var retainedBytes: Int { prefix.capacity + tail.capacity + vhdx.retainedBytes }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        var start = 0
        while start < bytes.count {
            var step = bytes.count - start
            if let next = nextDecision(), next > bytesSeen {
                step = Int(min(Int64(step), next - bytesSeen))
            }
            consume(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + step)]))
            start += step
            decide()
        }
    }

    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ feed(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        // Not contiguous: copy through a small fixed buffer rather than materialising the whole sequence.
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64 * 1024)
        for byte in bytes {
            buffer.append(byte)
            if buffer.count == 64 * 1024 {
                buffer.withUnsafeBytes { feed($0) }
                buffer.removeAll(keepingCapacity: true)
            }
        }
        buffer.withUnsafeBytes { feed($0) }
    }

    public func finish() -> DiskImageInspection {
        let evidence = ImageEvidence(
            prefix: prefix, total: bytesSeen, tail: tail.bytes, vhdx: vhdx.outcome(total: bytesSeen)
        )
        return DiskImageInspection(evidence: evidence)
    }

    private func nextDecision() -> Int64? {
        var next = vhdx.nextDecision
        if !prefixLimitDecided {
            next = min(next ?? Int64.max, Int64(Self.vmdkDescriptorOffset))
        }
        return next
    }

    private mutating func consume(_ segment: UnsafeRawBufferPointer) {
        if prefix.count < prefixLimit, Int64(prefix.count) == bytesSeen {
            let take = min(segment.count, prefixLimit - prefix.count)
            if prefix.capacity < prefix.count + take {
                // Grow by doubling but never past the limit, so capacity stays within the bound too.
                prefix.reserveCapacity(min(prefixLimit, max(prefix.count + take, prefix.capacity * 2, 4096)))
            }
            prefix.append(contentsOf: UnsafeRawBufferPointer(rebasing: segment[0..<take]))
        }
        tail.append(segment)
        vhdx.capture(segment, at: bytesSeen)
        let (sum, overflow) = bytesSeen.addingReportingOverflow(Int64(segment.count))
        bytesSeen = overflow ? Int64.max : sum
    }

    private mutating func decide() {
        if !prefixLimitDecided, bytesSeen >= Int64(Self.vmdkDescriptorOffset) {
            prefixLimitDecided = true
            prefixLimit = max(Self.headerWindow, VMDKProbe.bytesNeeded(firstSector: prefix))
        }
        vhdx.advance(prefix: prefix, position: bytesSeen)
    }
}
