import Logging
import PostgresNIO

/// BEGIN / COMMIT / ROLLBACK around a body, rethrowing the body's own error (postgres-nio's `withTransaction`
/// wraps it, which would hide the `GlimpseError`s the stores' callers switch on).
enum PostgresTransaction {
    /// `snapshot` makes a read-only transaction whose statements all see one snapshot (an image's row, properties
    /// and tags are read by three statements, which must not straddle another node's commit).
    static func run<T: Sendable>(
        on connection: PostgresConnection, logger: Logger, snapshot: Bool = false,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await connection.query(
            snapshot ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN", logger: logger)
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
