// The last few bytes of the stream, in a fixed ring: a streamOptimized VMDK keeps its authoritative header in a
// footer at the very end, which only the end of the stream can show.

struct TailBuffer: Sendable, Equatable {
    let capacity: Int
    private var ring: [UInt8]
    private var start = 0
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        ring = [UInt8](repeating: 0, count: capacity)
    }

    mutating func append(_ segment: UnsafeRawBufferPointer) {
        guard capacity > 0 else { return }
        let keep = segment.count > capacity ? UnsafeRawBufferPointer(rebasing: segment[(segment.count - capacity)...]) : segment
        for byte in keep {
            if count < capacity {
                ring[(start + count) % capacity] = byte
                count += 1
            } else {
                ring[start] = byte
                start = (start + 1) % capacity
            }
        }
    }

    /// The kept bytes, oldest first.
    var bytes: [UInt8] {
        (0..<count).map { ring[(start + $0) % capacity] }
    }
}
