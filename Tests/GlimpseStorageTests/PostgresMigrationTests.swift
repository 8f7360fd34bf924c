import GlimpseCore
import GlimpsePostgres
import GlimpsePostgresTesting
import Logging
import PostgresNIO
import Testing

/// Several nodes starting at once on one empty database: all of them come up, and each schema version is applied
/// exactly once (the advisory lock serialises them).
@Suite("PostgreSQL migrations")
struct PostgresMigrationTests {
    @Test func nodesStartingAtOnceMigrateExactlyOnce() async throws {
        let database = try await PostgresTestCluster.shared.makeDatabase().configuration
        let logger = Logger(label: "glimpse.test.postgres")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in 0..<8 {
                group.addTask {
                    if node.isMultiple(of: 2) {
                        _ = try await PostgresMetadataStore.open(database, startupTimeout: .seconds(120), logger: logger)
                    } else {
                        _ = try await PostgresComputeStore.open(database, startupTimeout: .seconds(120), logger: logger)
                    }
                }
            }
            try await group.waitForAll()
        }
        let client = PostgresClient(configuration: database, backgroundLogger: logger)
        let versions = try await withThrowingTaskGroup(of: [String].self) { group in
            group.addTask {
                await client.run()
                return []
            }
            var versions: [String] = []
            for try await version in try await client.query(
                "SELECT version FROM glimpse_schema_migrations ORDER BY version", logger: logger
            ).decode(String.self) {
                versions.append(version)
            }
            group.cancelAll()
            return versions
        }
        #expect(versions == ["compute-v1", "v1-images", "v2-tasks", "v3-image-locations", "v4-node-leases"])
        let flavors = try await PostgresComputeStore.open(database, logger: logger).flavors()
        #expect(flavors.count == Flavor.devstackDefaults.count, "default flavors were seeded once")
    }
}

/// A database that cannot be reached ends start-up with an error rather than a silent, endless retry.
@Suite("PostgreSQL start-up")
struct PostgresStartupTests {
    @Test func anUnreachableDatabaseFailsTheOpenAsUnavailable() async throws {
        let nowhere = PostgresClient.Configuration(
            unixSocketPath: "/nonexistent-glimpse-socket-dir/.s.PGSQL.5432", username: "glimpse", password: nil,
            database: "glimpse")
        let logger = Logger(label: "glimpse.test.postgres")
        do {
            _ = try await PostgresMetadataStore.open(nowhere, startupTimeout: .milliseconds(300), logger: logger)
            Issue.record("opening an unreachable database succeeded")
        } catch let error as GlimpseError {
            #expect(error.kind == .unavailable)
        }
    }
}
