// Bounds-checked integer and byte-string reads over retained image bytes. Every read returns nil instead of
// trapping when the bytes are not there, so header fields from a tenant can never index out of range.

extension Array where Element == UInt8 {
    func bytes(at offset: Int, count: Int) -> ArraySlice<UInt8>? {
        guard offset >= 0, count >= 0 else { return nil }
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard !overflow, end <= self.count else { return nil }
        return self[offset..<end]
    }

    func byte(at offset: Int) -> UInt8? {
        guard offset >= 0, offset < count else { return nil }
        return self[offset]
    }

    func starts(with magic: [UInt8], at offset: Int = 0) -> Bool {
        guard let slice = bytes(at: offset, count: magic.count) else { return false }
        return slice.elementsEqual(magic)
    }

    func bigEndian(at offset: Int, width: Int) -> UInt64? {
        guard width <= 8, let slice = bytes(at: offset, count: width) else { return nil }
        return slice.reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
    }

    func littleEndian(at offset: Int, width: Int) -> UInt64? {
        guard width <= 8, let slice = bytes(at: offset, count: width) else { return nil }
        return slice.reversed().reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
    }

    func uint16BE(_ offset: Int) -> UInt16? { bigEndian(at: offset, width: 2).map { UInt16(truncatingIfNeeded: $0) } }
    func uint32BE(_ offset: Int) -> UInt32? { bigEndian(at: offset, width: 4).map { UInt32(truncatingIfNeeded: $0) } }
    func uint64BE(_ offset: Int) -> UInt64? { bigEndian(at: offset, width: 8) }
    func uint16LE(_ offset: Int) -> UInt16? { littleEndian(at: offset, width: 2).map { UInt16(truncatingIfNeeded: $0) } }
    func uint32LE(_ offset: Int) -> UInt32? { littleEndian(at: offset, width: 4).map { UInt32(truncatingIfNeeded: $0) } }
    func uint64LE(_ offset: Int) -> UInt64? { littleEndian(at: offset, width: 8) }
}

/// ASCII bytes of a string literal (magic numbers, signatures).
func ascii(_ text: StaticString) -> [UInt8] {
    text.withUTF8Buffer { Array($0) }
}

extension UInt64 {
    /// The value as a size in bytes Glance could record, nil when it does not fit a signed 64-bit integer.
    var asSize: Int64? { self <= UInt64(Int64.max) ? Int64(self) : nil }

    /// `self * factor` as a size, nil on overflow.
    func times(_ factor: UInt64) -> Int64? {
        let (product, overflow) = multipliedReportingOverflow(by: factor)
        return overflow ? nil : product.asSize
    }
}
