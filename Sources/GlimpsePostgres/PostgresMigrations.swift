// GlimpsePostgres owns the PostgreSQL backends of Glimpse's stores (image metadata, compute, metadefs and the
// built-in identity), their versioned schema and the connection settings that select them
// (`glimpse serve --database postgresql://...`).

import Foundation
import Logging
import PostgresNIO

/// Versioned schema changes, applied once per database however many nodes start at the same moment: every node
/// takes one advisory lock, applies what `glimpse_schema_migrations` does not list yet, and records it.
struct PostgresMigrations {
    struct Migration {
        var version: String
        /// One statement per element: the extended query protocol runs a single statement at a time.
        var statements: [PostgresQuery]
    }

    /// An arbitrary constant shared by every Glimpse node ("glimps" in ASCII), so they all contend on one lock.
    static let advisoryLockKey: Int64 = 0x676C_696D_7073

    var migrations: [Migration]

    /// Applies the pending migrations; returns the versions this call applied (empty when another node did).
    @discardableResult
    func run(on client: PostgresClient, logger: Logger) async throws -> [String] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))", logger: logger)
            do {
                let applied = try await apply(on: connection, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                return applied
            } catch {
                // A session lock outlives a failed statement; release it so other nodes are not blocked forever.
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                throw error
            }
        }
    }

    private func apply(on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS glimpse_schema_migrations (
                version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)
            """, logger: logger)
        var done: Set<String> = []
        for try await version in try await connection.query(
            "SELECT version FROM glimpse_schema_migrations", logger: logger
        ).decode(String.self) {
            done.insert(version)
        }
        var applied: [String] = []
        for migration in migrations where !done.contains(migration.version) {
            try await PostgresTransaction.run(on: connection, logger: logger) { connection in
                for statement in migration.statements { try await connection.query(statement, logger: logger) }
                let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
                try await connection.query(
                    "INSERT INTO glimpse_schema_migrations (version, applied_at) VALUES (\(migration.version), \(now))",
                    logger: logger)
            }
            logger.info("PostgreSQL schema migration applied", metadata: ["version": "\(migration.version)"])
            applied.append(migration.version)
        }
        return applied
    }
}
