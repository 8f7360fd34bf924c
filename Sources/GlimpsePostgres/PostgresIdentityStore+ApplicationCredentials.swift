import GlimpseCore
import GlimpseStorage
import PostgresNIO

/// Application credentials: unique by name per user; they go with their user and their project. Role ids are
/// kept comma-separated, as in the SQLite store.
extension PostgresIdentityStore {
    func applicationCredentials(_ query: PostgresQuery) async throws -> [IdentityApplicationCredential] {
        try await read { db in
            var result: [IdentityApplicationCredential] = []
            for try await (id, userID, name, description, projectID, system, secretHash, expires, unrestricted, roles)
                in try await db.query(query, logger: logger)
                .decode((String, String, String, String, String?, Bool, String, Int64?, Bool, String).self)
            {
                result.append(IdentityApplicationCredential(
                    id: id, userID: userID, name: name, description: description, projectID: projectID, system: system,
                    secretHash: secretHash, expiresAt: expires.map { Timestamp(microseconds: $0) },
                    unrestricted: unrestricted, roleIDs: roles.split(separator: ",").map(String.init)))
            }
            return result
        }
    }

    public func applicationCredentials(userID: String) async throws -> [IdentityApplicationCredential] {
        try await applicationCredentials(
            """
            SELECT id, user_id, name, description, project_id, system, secret_hash, expires_at, unrestricted, role_ids
            FROM identity_application_credentials WHERE user_id = \(userID) ORDER BY name
            """)
    }

    public func applicationCredential(id: String) async throws -> IdentityApplicationCredential? {
        try await applicationCredentials(
            """
            SELECT id, user_id, name, description, project_id, system, secret_hash, expires_at, unrestricted, role_ids
            FROM identity_application_credentials WHERE id = \(id)
            """
        ).first
    }

    public func applicationCredential(userID: String, name: String) async throws -> IdentityApplicationCredential? {
        try await applicationCredentials(
            """
            SELECT id, user_id, name, description, project_id, system, secret_hash, expires_at, unrestricted, role_ids
            FROM identity_application_credentials WHERE user_id = \(userID) AND name = \(name)
            """
        ).first
    }

    public func insertApplicationCredential(_ c: IdentityApplicationCredential) async throws {
        let expires = c.expiresAt?.microseconds
        let roles = c.roleIDs.joined(separator: ",")
        try await storing("application credential") { db in
            _ = try await db.query(
                """
                INSERT INTO identity_application_credentials
                    (id, user_id, name, description, project_id, system, secret_hash, expires_at, unrestricted, role_ids)
                VALUES (\(c.id), \(c.userID), \(c.name), \(c.description), \(c.projectID), \(c.system), \(c.secretHash),
                    \(expires), \(c.unrestricted), \(roles))
                """, logger: logger)
        }
    }

    public func deleteApplicationCredential(id: String) async throws -> Bool {
        try await changed(
            "application credential", "DELETE FROM identity_application_credentials WHERE id = \(id) RETURNING id")
    }

    public func deleteApplicationCredentials(userID: String, projectID: String) async throws {
        try await storing("application credential") { db in
            _ = try await db.query(
                "DELETE FROM identity_application_credentials WHERE user_id = \(userID) AND project_id = \(projectID)",
                logger: logger)
        }
    }
}
