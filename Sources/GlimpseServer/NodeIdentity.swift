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
        try (id + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return id
    }

    /// Ids name directories in a shared image store: letters, digits and dashes only.
    static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }
}
