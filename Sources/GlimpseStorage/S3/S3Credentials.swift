// The access key pair S3 requests are signed with, read from the environment or a credentials file (never from the
// command line, and never printed).

/// An S3 access key and its secret. `description` hides the secret, so logging a value never leaks it.
public struct S3Credentials: Sendable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String

    public init(accessKeyID: String, secretAccessKey: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
    }

    public var description: String { "S3Credentials(\(accessKeyID), secret hidden)" }

    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, when both are set and not empty.
    public static func fromEnvironment(_ environment: [String: String]) -> S3Credentials? {
        guard let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty,
              let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else { return nil }
        return S3Credentials(accessKeyID: key, secretAccessKey: secret)
    }

    /// The `aws_access_key_id` and `aws_secret_access_key` lines of a credentials file in the AWS shared format
    /// (`name = value` lines; `#`/`;` comments; of several `[profile]` sections the first is used).
    public static func parse(credentialsFile text: String) -> S3Credentials? {
        var key: String?
        var secret: String?
        var sections = 0
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingSpaces
            if line.hasPrefix("#") || line.hasPrefix(";") || line.isEmpty { continue }
            if line.hasPrefix("[") {
                sections += 1
                if sections > 1 { break }
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let name = line[..<equals].trimmingSpaces.lowercased()
            let value = String(line[line.index(after: equals)...].trimmingSpaces)
            if name == "aws_access_key_id" { key = value }
            if name == "aws_secret_access_key" { secret = value }
        }
        guard let key, !key.isEmpty, let secret, !secret.isEmpty else { return nil }
        return S3Credentials(accessKeyID: key, secretAccessKey: secret)
    }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        let s = Substring(self)
        guard let first = s.firstIndex(where: { $0 != " " && $0 != "\t" }),
              let last = s.lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return "" }
        return s[first...last]
    }
}
