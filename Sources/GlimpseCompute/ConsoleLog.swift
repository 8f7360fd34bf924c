#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Reading a server's serial console log for `os-getConsoleOutput`: only its end is read (the log grows for as long
/// as the server lives), and only whole lines are returned.
enum ConsoleLog {
    /// The largest tail read from a console log.
    static let maxBytes = 1 << 20

    /// The last `maxBytes` of the file at `path` (from the first line start inside them), decoded leniently; nil
    /// when there is no such file.
    static func tail(path: String, maxBytes: Int) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > UInt64(maxBytes) ? size - UInt64(maxBytes) : 0
        do {
            try handle.seek(toOffset: start)
        } catch {
            return nil
        }
        var data = (try? handle.read(upToCount: maxBytes)) ?? Data()
        if start > 0, let newline = data.firstIndex(of: 0x0A) { data = data[data.index(after: newline)...] }
        return String(decoding: data, as: UTF8.self)
    }

    /// Appends a host's note to the log (created when absent).
    static func append(path: String, _ text: String) {
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data(text.utf8))
    }

    /// The last `lines` lines of `text` (all when nil); unlike a plain split on line breaks, a final line break does not
    /// count as starting another (empty) line.
    static func lastLines(_ text: String, _ lines: Int?) -> String {
        guard let lines else { return text }
        if lines == 0 { return "" }
        // Split on the LF byte: a serial console ends lines with CR LF, which Swift takes as one Character, so a
        // split on the Character "\n" would not split them at all.
        var parts = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        let trailingBreak = parts.last == ""
        if trailingBreak { parts.removeLast() }
        let kept = parts.suffix(lines).joined(separator: "\n")
        return trailingBreak ? kept + "\n" : kept
    }
}
