import Foundation
import PostgresNIO

/// Where the PostgreSQL database is, from a `postgresql://user@host:port/dbname` URL (or
/// `postgresql://user@/dbname?host=/socket/dir` for a Unix socket). The password never comes from the URL, so it
/// never shows in `ps` or logs: it is passed separately (PGPASSWORD or a password file).
public struct PostgresDatabaseURL: Sendable, Equatable {
    public enum TLSMode: String, Sendable { case disable, prefer, require }

    public var username: String
    /// nil: a Unix socket in `socketDirectory`.
    public var host: String?
    public var port: Int
    public var socketDirectory: String?
    public var database: String
    public var tlsMode: TLSMode
    /// Set from PGPASSWORD or `--database-password-file`, never from the URL.
    public var password: String?

    public init(parsing text: String) throws(PostgresDatabaseURLError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme,
            ["postgresql", "postgres"].contains(scheme.lowercased())
        else {
            throw PostgresDatabaseURLError("--database must be a postgresql://user@host:port/dbname URL")
        }
        if url.password != nil {
            throw PostgresDatabaseURLError(
                "--database must not contain a password (command lines are visible to every local user); "
                    + "set PGPASSWORD or use --database-password-file")
        }
        guard let user = url.user, !user.isEmpty else {
            throw PostgresDatabaseURLError("--database must name the user: postgresql://user@host/dbname")
        }
        username = user.removingPercentEncoding ?? user
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        for key in query.keys where !["host", "sslmode"].contains(key) {
            throw PostgresDatabaseURLError("--database: unsupported parameter '\(key)' (supported: host, sslmode)")
        }
        port = url.port ?? 5432
        let host = url.host.map { $0.removingPercentEncoding ?? $0 }
        if let directory = query["host"], directory.hasPrefix("/") {
            socketDirectory = directory
            self.host = nil
        } else if let host = host.flatMap({ $0.isEmpty ? nil : $0 }) ?? query["host"].flatMap({ $0.isEmpty ? nil : $0 }) {
            self.host = host
            socketDirectory = nil
        } else {
            throw PostgresDatabaseURLError("--database must name a host, or a socket directory with ?host=/path")
        }
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        database = path.isEmpty ? username : path
        guard let mode = TLSMode(rawValue: query["sslmode"] ?? "prefer") else {
            throw PostgresDatabaseURLError("--database: sslmode must be disable, prefer or require")
        }
        tlsMode = mode
        password = nil
    }

    /// The URL as it may be logged: never with a password.
    public var redacted: String {
        var text = "postgresql://\(username)@"
        if let host { text += (host.contains(":") ? "[\(host)]" : host) + ":\(port)" }
        text += "/\(database)"
        var parameters: [String] = []
        if let socketDirectory { parameters.append("host=\(socketDirectory)") }
        if tlsMode != .prefer { parameters.append("sslmode=\(tlsMode.rawValue)") }
        return parameters.isEmpty ? text : text + "?" + parameters.joined(separator: "&")
    }

    /// Takes the password from `passwordFile` (its first line) when given, else from `environment["PGPASSWORD"]`.
    public mutating func loadPassword(passwordFile: String?, environment: [String: String]) throws(PostgresDatabaseURLError) {
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw PostgresDatabaseURLError("cannot read --database-password-file \(passwordFile)")
            }
            password = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        } else if let fromEnvironment = environment["PGPASSWORD"] {
            password = fromEnvironment
        }
    }

    /// postgres-nio's pool settings for this database.
    public var clientConfiguration: PostgresClient.Configuration {
        if let socketDirectory {
            return PostgresClient.Configuration(
                unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: username, password: password,
                database: database)
        }
        let tls: PostgresClient.Configuration.TLS = switch tlsMode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
        return PostgresClient.Configuration(
            host: host ?? "localhost", port: port, username: username, password: password, database: database, tls: tls)
    }
}
