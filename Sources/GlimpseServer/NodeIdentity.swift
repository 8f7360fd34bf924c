#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The node's id among the Glimpse nodes sharing a database and an image store: made once and kept in
/// `<data-dir>/node-id`, so a restarted node knows its own unfinished work. The data-directory lock keeps two
/// processes from running with one id.
enum NodeIdentity {
    static func load(dataDirectory: String) throws -> String {
        let path = dataDirectory + "/node-id"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if isValid(id) { return id }
        }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let id = UUID().uuidString.lowercased()
        // Owner-only like every file in the data directory; written aside and renamed, so a crash leaves no half id.
        let temporary = path + ".new"
        guard FileManager.default.createFile(
            atPath: temporary, contents: Data((id + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown) }
        guard rename(temporary, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return id
    }

    /// Ids name directories in a shared image store: letters, digits and dashes only.
    static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }
}
