// One bounded byte range of the image (offset, length) collected as the stream passes it. A header may point it
// anywhere in the file; it only ever holds `length` bytes, and `length` is always a constant bound of ours, never
// a size read from the image.

struct CaptureRegion: Sendable, Equatable {
    let offset: Int64
    let length: Int
    private(set) var data: [UInt8] = []
    /// The region starts in bytes that already went by and were not kept: it can never complete.
    private(set) var unreachable = false

    var isComplete: Bool { !unreachable && data.count == length }

    /// A region starting at `offset`; `earlier` supplies bytes already streamed (offset, count) when it has them.
    init(offset: Int64, length: Int, position: Int64, earlier: (Int64, Int) -> ArraySlice<UInt8>?) {
        self.offset = offset
        self.length = max(0, length)
        guard offset < position else { return }
        let passed = position - offset
        let wanted = Int(min(Int64(self.length), passed))
        if let bytes = earlier(offset, wanted), bytes.count == wanted {
            data.reserveCapacity(self.length)
            data.append(contentsOf: bytes)
        } else {
            unreachable = true
        }
    }

    /// Takes this region's part of `segment`, which starts at stream position `start`.
    mutating func capture(_ segment: UnsafeRawBufferPointer, at start: Int64) {
        guard !unreachable, data.count < length else { return }
        let next = offset + Int64(data.count)
        let segmentEnd = start + Int64(segment.count)
        guard next < segmentEnd else { return }
        guard next >= start else {
            unreachable = true
            return
        }
        let from = Int(next - start)
        let take = min(length - data.count, segment.count - from)
        if data.isEmpty { data.reserveCapacity(length) }
        data.append(contentsOf: UnsafeRawBufferPointer(rebasing: segment[from..<(from + take)]))
    }

    var retainedBytes: Int { data.capacity }
}
