import PostgresNIO

/// One database of the private test cluster, reachable over its Unix socket without a password.
public struct PostgresTestDatabase: Sendable {
    public var name: String
    public var username: String
    public var socketDirectory: String

    public var configuration: PostgresClient.Configuration {
        PostgresClient.Configuration(
            unixSocketPath: socketDirectory + "/.s.PGSQL.5432", username: username, password: nil, database: name)
    }

    /// As `glimpse serve --database` takes it.
    public var url: String { "postgresql://\(username)@/\(name)?host=\(socketDirectory)" }
}
