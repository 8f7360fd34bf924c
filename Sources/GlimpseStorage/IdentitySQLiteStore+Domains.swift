import GRDB
import GlimpseCore

/// Updating and deleting domains. Deleting a domain takes everything in it in one transaction: its projects,
/// users (whose tokens are revoked), groups, domain-specific roles and the grants on it.
extension IdentitySQLiteStore {
    public func updateDomain(_ d: IdentityDomain) async throws {
        try await insert("domain") { db in
            try db.execute(
                sql: "UPDATE domains SET name = ?, description = ?, enabled = ? WHERE id = ?",
                arguments: [d.name, d.description, d.enabled, d.id])
        }
    }

    public func deleteDomain(id: String) async throws -> Bool {
        try await pool.write { db in
            let args: StatementArguments = [id]
            try db.execute(
                sql: "UPDATE tokens SET revoked = 1 WHERE user_id IN (SELECT id FROM users WHERE domain_id = ?)", arguments: args)
            try db.execute(
                sql: "UPDATE tokens SET revoked = 1 WHERE project_id IN (SELECT id FROM projects WHERE domain_id = ?)",
                arguments: args)
            try db.execute(sql: "UPDATE tokens SET revoked = 1 WHERE scope_domain_id = ?", arguments: args)
            try db.execute(sql: "DELETE FROM groups WHERE domain_id = ?", arguments: args)
            try db.execute(sql: "DELETE FROM users WHERE domain_id = ?", arguments: args)
            try db.execute(sql: "DELETE FROM projects WHERE domain_id = ?", arguments: args)
            try db.execute(sql: "DELETE FROM roles WHERE domain_id = ?", arguments: args)
            try db.execute(
                sql: "DELETE FROM target_assignments WHERE target_type = 'domain' AND target_id = ?", arguments: args)
            try db.execute(sql: "DELETE FROM domains WHERE id = ?", arguments: args)
            return db.changesCount > 0
        }
    }
}
