import GlimpseCore
import GlimpseStorage
import PostgresNIO

/// Credentials (`/v3/credentials`): they go with their user and, when tied to one, their project.
extension PostgresIdentityStore {
    func credentials(_ query: PostgresQuery) async throws -> [IdentityCredential] {
        try await read { db in
            var result: [IdentityCredential] = []
            for try await (id, userID, projectID, type, blob) in try await db.query(query, logger: logger)
                .decode((String, String, String?, String, String).self)
            {
                result.append(IdentityCredential(id: id, userID: userID, projectID: projectID, type: type, blob: blob))
            }
            return result
        }
    }

    public func credentials() async throws -> [IdentityCredential] {
        try await credentials("SELECT id, user_id, project_id, type, blob FROM identity_credentials ORDER BY id")
    }

    public func credential(id: String) async throws -> IdentityCredential? {
        try await credentials("SELECT id, user_id, project_id, type, blob FROM identity_credentials WHERE id = \(id)").first
    }

    public func insertCredential(_ c: IdentityCredential) async throws {
        try await storing("credential") { db in
            _ = try await db.query(
                """
                INSERT INTO identity_credentials (id, user_id, project_id, type, blob)
                VALUES (\(c.id), \(c.userID), \(c.projectID), \(c.type), \(c.blob))
                """, logger: logger)
        }
    }

    public func updateCredential(_ c: IdentityCredential) async throws {
        try await storing("credential") { db in
            _ = try await db.query(
                """
                UPDATE identity_credentials SET user_id = \(c.userID), project_id = \(c.projectID), type = \(c.type),
                    blob = \(c.blob) WHERE id = \(c.id)
                """, logger: logger)
        }
    }

    public func deleteCredential(id: String) async throws -> Bool {
        try await changed("credential", "DELETE FROM identity_credentials WHERE id = \(id) RETURNING id")
    }
}
