import Foundation
import GRDB
import GlimpseCore

/// `ComputeStore` on SQLite through GRDB (WAL mode), in its own file (`compute.sqlite`) beside the image metadata.
/// The queried columns are real columns; the rest of a record is one JSON document.
public final class SQLiteComputeStore: ComputeStore {
    let pool: DatabasePool

    /// Opens (or creates) the database; a new database gets devstack's default flavors.
    public init(path: String, defaultFlavors: [Flavor] = Flavor.devstackDefaults) throws {
        pool = try EmbeddedSQLite.openPool(at: path)
        var m = DatabaseMigrator()
        m.registerMigration("v1-compute") { db in
            try db.execute(
                sql: """
                    CREATE TABLE flavors (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL UNIQUE,
                        position INTEGER NOT NULL,
                        record TEXT NOT NULL
                    );
                    CREATE TABLE servers (
                        id TEXT PRIMARY KEY NOT NULL,
                        serial INTEGER NOT NULL UNIQUE,
                        project_id TEXT NOT NULL,
                        image_id TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        record TEXT NOT NULL
                    );
                    CREATE INDEX servers_project ON servers(project_id, created_at);
                    CREATE INDEX servers_image ON servers(image_id);
                    """)
            for (i, f) in defaultFlavors.enumerated() {
                try db.execute(
                    sql: "INSERT INTO flavors (id, name, position, record) VALUES (?, ?, ?, ?)",
                    arguments: [f.id, f.name, i, try Self.encode(f)])
            }
        }
        try m.migrate(pool)
    }

    static func encode<T: Encodable>(_ v: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return String(decoding: try e.encode(v), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    // MARK: flavors

    public func flavors() async throws -> [Flavor] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT record FROM flavors ORDER BY position, id").map {
                try Self.decode(Flavor.self, $0)
            }
        }
    }

    public func flavor(id: String) async throws -> Flavor? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT record FROM flavors WHERE id = ?", arguments: [id]).map {
                try Self.decode(Flavor.self, $0)
            }
        }
    }

    public func insertFlavor(_ flavor: Flavor) async throws {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM flavors WHERE id = ?", arguments: [flavor.id]) == true {
                throw GlimpseError.conflict("Flavor with ID \(flavor.id) already exists.")
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM flavors WHERE name = ?", arguments: [flavor.name]) == true {
                throw GlimpseError.conflict("Flavor with name \(flavor.name) already exists.")
            }
            let position = (try Int64.fetchOne(db, sql: "SELECT MAX(position) FROM flavors") ?? 0) + 1
            try db.execute(
                sql: "INSERT INTO flavors (id, name, position, record) VALUES (?, ?, ?, ?)",
                arguments: [flavor.id, flavor.name, position, try Self.encode(flavor)])
        }
    }

    public func deleteFlavor(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM flavors WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    // MARK: servers

    public func insertServer(_ server: ServerRecord) async throws -> ServerRecord {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM servers WHERE id = ?", arguments: [server.id]) == true {
                throw GlimpseError.conflict("A server with identifier \(server.id) already exists.")
            }
            var s = server
            s.serial = (try Int64.fetchOne(db, sql: "SELECT MAX(serial) FROM servers") ?? 0) + 1
            try db.execute(
                sql: "INSERT INTO servers (id, serial, project_id, image_id, created_at, record) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [s.id, s.serial, s.projectID, s.imageID, s.createdAt, try Self.encode(s)])
            return s
        }
    }

    public func server(id: String) async throws -> ServerRecord? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT record FROM servers WHERE id = ?", arguments: [id]).map {
                try Self.decode(ServerRecord.self, $0)
            }
        }
    }

    public func servers(projectID: String?) async throws -> [ServerRecord] {
        try await pool.read { db in
            let rows: [String]
            if let projectID {
                rows = try String.fetchAll(
                    db, sql: "SELECT record FROM servers WHERE project_id = ? ORDER BY created_at DESC, id DESC",
                    arguments: [projectID])
            } else {
                rows = try String.fetchAll(db, sql: "SELECT record FROM servers ORDER BY created_at DESC, id DESC")
            }
            return try rows.map { try Self.decode(ServerRecord.self, $0) }
        }
    }

    public func updateServer(id: String, _ body: @Sendable (inout ServerRecord) throws -> Void) async throws -> ServerRecord {
        try await pool.write { db in
            guard let text = try String.fetchOne(db, sql: "SELECT record FROM servers WHERE id = ?", arguments: [id]) else {
                throw GlimpseError.notFound("Instance \(id) could not be found.")
            }
            let before = try Self.decode(ServerRecord.self, text)
            var s = before
            try body(&s)
            s.id = before.id
            s.serial = before.serial
            if s != before {
                try db.execute(
                    sql: "UPDATE servers SET project_id = ?, image_id = ?, record = ? WHERE id = ?",
                    arguments: [s.projectID, s.imageID, try Self.encode(s), id])
            }
            return s
        }
    }

    public func deleteServer(id: String) async throws -> ServerRecord? {
        try await pool.write { db in
            guard let text = try String.fetchOne(db, sql: "SELECT record FROM servers WHERE id = ?", arguments: [id]) else {
                return nil
            }
            try db.execute(sql: "DELETE FROM servers WHERE id = ?", arguments: [id])
            return try Self.decode(ServerRecord.self, text)
        }
    }

    public func serverCount(usingImage imageID: String) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM servers WHERE image_id = ?", arguments: [imageID]) ?? 0
        }
    }
}
