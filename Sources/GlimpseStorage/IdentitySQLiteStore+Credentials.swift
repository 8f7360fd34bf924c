import GRDB
import GlimpseCore

/// Version 5 of the identity schema: credentials. They go with their user and, when tied to one, their project.
extension IdentitySQLiteStore {
    static func registerCredentialMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("v5-identity-credentials") { db in
            try db.execute(
                sql: """
                    CREATE TABLE credentials (
                        id TEXT PRIMARY KEY NOT NULL,
                        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                        project_id TEXT REFERENCES projects(id) ON DELETE CASCADE,
                        type TEXT NOT NULL,
                        blob TEXT NOT NULL
                    );
                    CREATE INDEX credentials_user ON credentials(user_id);
                    """)
        }
    }

    static func credential(_ r: Row) -> IdentityCredential {
        IdentityCredential(id: r["id"], userID: r["user_id"], projectID: r["project_id"], type: r["type"], blob: r["blob"])
    }

    public func credentials() async throws -> [IdentityCredential] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM credentials ORDER BY id").map(Self.credential) }
    }

    public func credential(id: String) async throws -> IdentityCredential? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM credentials WHERE id = ?", arguments: [id]).map(Self.credential)
        }
    }

    public func insertCredential(_ c: IdentityCredential) async throws {
        try await insert("credential") { db in
            try db.execute(
                sql: "INSERT INTO credentials (id, user_id, project_id, type, blob) VALUES (?, ?, ?, ?, ?)",
                arguments: [c.id, c.userID, c.projectID, c.type, c.blob])
        }
    }

    public func updateCredential(_ c: IdentityCredential) async throws {
        try await insert("credential") { db in
            try db.execute(
                sql: "UPDATE credentials SET user_id = ?, project_id = ?, type = ?, blob = ? WHERE id = ?",
                arguments: [c.userID, c.projectID, c.type, c.blob, c.id])
        }
    }

    public func deleteCredential(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM credentials WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }
}
