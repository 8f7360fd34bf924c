import GlimpseCore

/// Bounds how long opening a store may wait for the database. The pool retries a refused connection forever;
/// at start-up a wrong URL or a database that is down must end `glimpse serve` with an error instead.
public enum PostgresStartup {
    public static let defaultTimeout: Duration = .seconds(30)

    static func within<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw GlimpseError(
                    .unavailable,
                    "PostgreSQL could not be reached and its schema brought up to date within \(timeout) (the connection errors are logged)")
            }
            return value
        }
    }
}
