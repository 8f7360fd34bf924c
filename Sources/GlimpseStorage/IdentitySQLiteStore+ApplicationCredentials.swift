import GRDB
import GlimpseCore

/// Application credentials on SQLite (table created by the v2 identity migration).
extension IdentitySQLiteStore {
    static func applicationCredential(_ r: Row) -> IdentityApplicationCredential {
        let roles: String = r["role_ids"]
        let expires: Int64? = r["expires_at"]
        return IdentityApplicationCredential(
            id: r["id"], userID: r["user_id"], name: r["name"], description: r["description"], projectID: r["project_id"],
            system: r["system"], secretHash: r["secret_hash"], expiresAt: expires.map { Timestamp(microseconds: $0) },
            unrestricted: r["unrestricted"], roleIDs: roles.split(separator: ",").map(String.init))
    }

    public func applicationCredentials(userID: String) async throws -> [IdentityApplicationCredential] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM application_credentials WHERE user_id = ? ORDER BY name", arguments: [userID]
            ).map(Self.applicationCredential)
        }
    }

    public func applicationCredential(id: String) async throws -> IdentityApplicationCredential? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM application_credentials WHERE id = ?", arguments: [id])
                .map(Self.applicationCredential)
        }
    }

    public func applicationCredential(userID: String, name: String) async throws -> IdentityApplicationCredential? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM application_credentials WHERE user_id = ? AND name = ?", arguments: [userID, name]
            ).map(Self.applicationCredential)
        }
    }

    public func insertApplicationCredential(_ c: IdentityApplicationCredential) async throws {
        try await insert("application credential") { db in
            try db.execute(
                sql: """
                    INSERT INTO application_credentials
                        (id, user_id, name, description, project_id, system, secret_hash, expires_at, unrestricted, role_ids)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    c.id, c.userID, c.name, c.description, c.projectID, c.system, c.secretHash, c.expiresAt?.microseconds,
                    c.unrestricted, c.roleIDs.joined(separator: ","),
                ])
        }
    }

    public func deleteApplicationCredential(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM application_credentials WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func deleteApplicationCredentials(userID: String, projectID: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM application_credentials WHERE user_id = ? AND project_id = ?", arguments: [userID, projectID])
        }
    }
}
