#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A server's serial console log: reading its end for `os-getConsoleOutput` (only whole lines are returned) and
/// keeping it bounded. A guest can print without end, so the log rotates as virtlogd rotates Nova's: once the live
/// file passes `rotateAt`, its last `rotateAt` bytes move to `<log>.1` and the live file is cut to nothing. QEMU
/// opens the log with O_APPEND (`append=on`), so its next write lands at the new end; what it writes between the copy
/// and the cut (a few milliseconds) is lost. Disk use per server stays below about twice `rotateAt` plus what the
/// guest prints between two checks.
enum ConsoleLog {
    /// The largest tail read from a console log.
    static let maxBytes = 1 << 20
    /// The live log's size that starts a rotation (virtlogd's default `max_size`).
    static let rotateAt = 2 << 20

    static func previous(_ path: String) -> String { path + ".1" }

    /// The last `maxBytes` of the log at `path` (from the first line start inside them), reaching back into the
    /// rotated part when the live file is shorter, decoded leniently; nil when there is no such log.
    static func tail(path: String, maxBytes: Int) -> String? {
        guard let live = tailData(path: path, maxBytes: maxBytes) else { return nil }
        var data = live.data
        if !live.cut, data.count < maxBytes, let older = tailData(path: previous(path), maxBytes: maxBytes - data.count) {
            data = older.data + data
            if older.cut, let newline = data.firstIndex(of: 0x0A) { data = data[data.index(after: newline)...] }
        } else if live.cut, let newline = data.firstIndex(of: 0x0A) {
            data = data[data.index(after: newline)...]
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The last `maxBytes` bytes of a file and whether that cut anything off before them.
    private static func tailData(path: String, maxBytes: Int) -> (data: Data, cut: Bool)? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > UInt64(maxBytes) ? size - UInt64(maxBytes) : 0
        do {
            try handle.seek(toOffset: start)
        } catch {
            return nil
        }
        return ((try? handle.read(upToCount: maxBytes)) ?? Data(), start > 0)
    }

    /// Rotates the log when it has grown past `limit`; returns whether it did.
    @discardableResult
    static func rotate(path: String, limit: Int = rotateAt) -> Bool {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue,
            size > limit, var kept = tailData(path: path, maxBytes: limit)?.data
        else { return false }
        // The rotated part starts at a line, as every tail does.
        if let newline = kept.firstIndex(of: 0x0A) { kept = kept[kept.index(after: newline)...] }
        let temporary = previous(path) + ".new"
        guard FileManager.default.createFile(atPath: temporary, contents: kept, attributes: [.posixPermissions: 0o600]),
            rename(temporary, previous(path)) == 0
        else {
            try? FileManager.default.removeItem(atPath: temporary)
            return false
        }
        return truncate(path, 0) == 0
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
