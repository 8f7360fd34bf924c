import Logging
import PostgresNIO

/// BEGIN / COMMIT / ROLLBACK around a body, rethrowing the body's own error (postgres-nio's `withTransaction`
/// wraps it, which would hide the `GlimpseError`s the stores' callers switch on).
enum PostgresTransaction {
    static func run<T: Sendable>(
        on connection: PostgresConnection, logger: Logger, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await connection.query("BEGIN", logger: logger)
        let value: T
        do {
            value = try await body(connection)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
        try await connection.query("COMMIT", logger: logger)
        return value
    }
}
