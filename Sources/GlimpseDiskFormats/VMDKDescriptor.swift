// The text of a VMDK descriptor, read as cautiously as oslo.utils does: ASCII only, up to the first NUL,
// case-insensitive, every line a comment, a `ddb` entry, a `key=value` header field or an extent.

struct VMDKDescriptor: Sendable {
    static let formatNotFound = "formatnotfound"
    static let extentAccess: Set<Substring> = ["rw", "rdonly", "noaccess"]

    struct Extent: Sendable {
        var line: String
        /// The extent type (`sparse`, `flat`, `zero`, ...), lowercased; empty when the line has none.
        var type: String
        var sectors: UInt64?
    }

    /// Lowercased text up to the first NUL.
    let text: String
    let createType: String
    private(set) var headerFields: [String] = []
    private(set) var extents: [Extent] = []
    /// The first line that is none of the known kinds; oslo refuses the descriptor for it.
    private(set) var unknownLine: String?

    /// Python's str.isspace() on ASCII.
    static func isWhitespace(_ byte: UInt8) -> Bool {
        (0x09...0x0D).contains(byte) || (0x1C...0x20).contains(byte)
    }

    /// nil when the bytes are not ASCII (oslo then finds no descriptor).
    init?(_ bytes: [UInt8]) {
        let used = bytes.prefix { $0 != 0 }
        guard used.allSatisfy({ $0 < 0x80 }) else { return nil }
        let lowered = used.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }
        text = String(decoding: lowered, as: UTF8.self)
        createType = Self.createType(in: lowered)
        for rawLine in lowered.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let line = Self.stripped(rawLine)
            classify(String(decoding: line, as: UTF8.self))
            if unknownLine != nil { break }
        }
    }

    /// Sum of the extents' sector counts, saturating.
    var extentSectors: UInt64 {
        extents.reduce(UInt64(0)) { sum, extent in
            let (total, overflow) = sum.addingReportingOverflow(extent.sectors ?? 0)
            return overflow ? UInt64.max : total
        }
    }

    private mutating func classify(_ line: String) {
        if line.isEmpty || line.hasPrefix("#") { return }
        if line.hasPrefix("ddb") { return }
        if let equals = line.firstIndex(of: "="), !line[..<equals].contains(" ") {
            headerFields.append(line)
            return
        }
        let words = line.split(separator: " ", omittingEmptySubsequences: false)
        if let access = words.first, Self.extentAccess.contains(access) {
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            extents.append(Extent(
                line: line,
                type: tokens.count > 2 ? String(tokens[2]) : "",
                sectors: tokens.count > 1 ? UInt64(tokens[1]) : nil
            ))
            return
        }
        unknownLine = line
    }

    /// The value of `createType="..."`, or `formatnotfound` (missing, unterminated or 64 characters or more).
    private static func createType(in text: [UInt8]) -> String {
        let key = ascii("createtype=\"")
        guard let keyStart = firstIndex(of: key, in: text) else { return formatNotFound }
        let valueStart = keyStart + key.count
        guard let valueEnd = text[valueStart...].firstIndex(of: 0x22), valueEnd - valueStart < 64 else {
            return formatNotFound
        }
        return String(decoding: text[valueStart..<valueEnd], as: UTF8.self)
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }

    private static func stripped(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = line
        while let first = slice.first, isWhitespace(first) { slice = slice.dropFirst() }
        while let last = slice.last, isWhitespace(last) { slice = slice.dropLast() }
        return slice
    }
}
