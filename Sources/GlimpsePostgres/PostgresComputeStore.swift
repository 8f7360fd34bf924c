import Foundation
import GlimpseCore
import GlimpseStorage
import Logging
import PostgresNIO

/// `ComputeStore` on PostgreSQL, for several nodes sharing one database. As in the SQLite backend the queried
/// columns are real columns and the rest of a record is one JSON document (TEXT, sorted keys); `updateServer`
/// locks the row (`SELECT ... FOR UPDATE`) so compare-and-sets from any node serialise.
public final class PostgresComputeStore: ComputeStore {
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>

    private init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        runner = Task { await client.run() }
    }

    deinit { runner.cancel() }

    /// Connects a pool with `configuration` and brings the schema up to date; a new database gets
    /// `defaultFlavors` (once, whichever node migrates it); fails with 503 `unavailable` after `startupTimeout`.
    public static func open(
        _ configuration: PostgresClient.Configuration, defaultFlavors: [Flavor] = Flavor.devstackDefaults,
        startupTimeout: Duration = PostgresStartup.defaultTimeout, logger: Logger
    ) async throws -> PostgresComputeStore {
        let store = PostgresComputeStore(client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger)
        let client = store.client
        let migrations = try PostgresComputeSchema.migrations(defaultFlavors: defaultFlavors)
        try await PostgresStartup.within(startupTimeout) { try await migrations.run(on: client, logger: logger) }
        return store
    }

    func transaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await PostgresTransaction.run(on: connection, logger: logger, body)
        }
    }

    func records<T: Decodable>(_ type: T.Type, _ query: PostgresQuery, on db: PostgresConnection) async throws -> [T] {
        var result: [T] = []
        for try await text in try await db.query(query, logger: logger).decode(String.self) {
            result.append(try PostgresComputeSchema.decode(type, text))
        }
        return result
    }

    func records<T: Decodable & Sendable>(_ type: T.Type, _ query: PostgresQuery) async throws -> [T] {
        try await client.withConnection { db in try await records(type, query, on: db) }
    }

    // MARK: flavors

    public func flavors() async throws -> [Flavor] {
        try await records(Flavor.self, "SELECT record FROM flavors ORDER BY position, id")
    }

    public func flavor(id: String) async throws -> Flavor? {
        try await records(Flavor.self, "SELECT record FROM flavors WHERE id = \(id)").first
    }

    public func insertFlavor(_ flavor: Flavor) async throws {
        let record = try PostgresComputeSchema.encode(flavor)
        try await transaction { db in
            // One writer at a time: the checks below and the next position then hold across nodes.
            try await db.query("LOCK TABLE flavors IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            if try await !db.query("SELECT 1 FROM flavors WHERE id = \(flavor.id)", logger: logger).collect().isEmpty {
                throw GlimpseError.conflict("Flavor with ID \(flavor.id) already exists.")
            }
            if try await !db.query("SELECT 1 FROM flavors WHERE name = \(flavor.name)", logger: logger).collect().isEmpty {
                throw GlimpseError.conflict("Flavor with name \(flavor.name) already exists.")
            }
            try await db.query(
                """
                INSERT INTO flavors (id, name, position, record)
                SELECT \(flavor.id), \(flavor.name), COALESCE(MAX(position), 0) + 1, \(record) FROM flavors
                """, logger: logger)
        }
    }

    public func deleteFlavor(id: String) async throws -> Bool {
        try await transaction { db in
            try await !db.query("DELETE FROM flavors WHERE id = \(id) RETURNING id", logger: logger).collect().isEmpty
        }
    }

    // MARK: servers

    public func insertServer(_ server: ServerRecord) async throws -> ServerRecord {
        try await transaction { db in
            var s = server
            for try await serial in try await db.query("SELECT nextval('server_serials')", logger: logger).decode(Int64.self) {
                s.serial = serial
            }
            let record = try PostgresComputeSchema.encode(s)
            let inserted = try await db.query(
                """
                INSERT INTO servers (id, serial, project_id, image_id, created_at, record)
                VALUES (\(s.id), \(s.serial), \(s.projectID), \(s.imageID), \(s.createdAt), \(record))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """, logger: logger
            ).collect()
            if inserted.isEmpty { throw GlimpseError.conflict("A server with identifier \(server.id) already exists.") }
            return s
        }
    }

    public func server(id: String) async throws -> ServerRecord? {
        try await records(ServerRecord.self, "SELECT record FROM servers WHERE id = \(id)").first
    }

    public func servers(projectID: String?) async throws -> [ServerRecord] {
        if let projectID {
            return try await records(
                ServerRecord.self,
                "SELECT record FROM servers WHERE project_id = \(projectID) ORDER BY created_at DESC, id DESC")
        }
        return try await records(ServerRecord.self, "SELECT record FROM servers ORDER BY created_at DESC, id DESC")
    }

    public func updateServer(id: String, _ body: @Sendable (inout ServerRecord) throws -> Void) async throws -> ServerRecord {
        try await transaction { db in
            guard let before = try await records(
                ServerRecord.self, "SELECT record FROM servers WHERE id = \(id) FOR UPDATE", on: db
            ).first else {
                throw GlimpseError.notFound("Instance \(id) could not be found.")
            }
            var s = before
            try body(&s)
            s.id = before.id
            s.serial = before.serial
            if s != before {
                let record = try PostgresComputeSchema.encode(s)
                try await db.query(
                    "UPDATE servers SET project_id = \(s.projectID), image_id = \(s.imageID), record = \(record) WHERE id = \(id)",
                    logger: logger)
            }
            return s
        }
    }

    public func deleteServer(id: String) async throws -> ServerRecord? {
        try await transaction { db in
            try await records(ServerRecord.self, "DELETE FROM servers WHERE id = \(id) RETURNING record", on: db).first
        }
    }

    public func serverCount(usingImage imageID: String) async throws -> Int {
        try await client.withConnection { db in
            var count: Int64 = 0
            for try await n in try await db.query(
                "SELECT COUNT(*) FROM servers WHERE image_id = \(imageID)", logger: logger
            ).decode(Int64.self) {
                count = n
            }
            return Int(clamping: count)
        }
    }
}
