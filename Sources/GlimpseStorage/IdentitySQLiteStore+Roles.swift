import GRDB
import GlimpseCore

/// Version 4 of the identity schema: domain-specific roles. A role's name is unique within its domain ('' for
/// global roles, so that SQLite's UNIQUE treats all global roles as one namespace), which needs the table rebuilt.
extension IdentitySQLiteStore {
    static func registerDomainRoleMigrations(_ m: inout DatabaseMigrator) {
        // GRDB runs migrations with foreign keys off (checked at the end), so dropping the old table does not
        // cascade to the grants and rules that reference it.
        m.registerMigration("v4-identity-domain-roles") { db in
            try db.execute(
                sql: """
                    CREATE TABLE roles_v4 (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        description TEXT NOT NULL DEFAULT '',
                        domain_id TEXT NOT NULL DEFAULT '',
                        UNIQUE (domain_id, name)
                    );
                    INSERT INTO roles_v4 (id, name, description) SELECT id, name, description FROM roles;
                    DROP TABLE roles;
                    ALTER TABLE roles_v4 RENAME TO roles;
                    """)
        }
    }

    static func role(_ r: Row) -> IdentityRole {
        let domain: String = r["domain_id"]
        return IdentityRole(id: r["id"], name: r["name"], description: r["description"], domainID: domain.isEmpty ? nil : domain)
    }

    public func updateRole(_ r: IdentityRole) async throws {
        try await insert("role") { db in
            try db.execute(
                sql: "UPDATE roles SET name = ?, description = ? WHERE id = ?", arguments: [r.name, r.description, r.id])
        }
    }

    public func deleteImpliedRole(_ rule: IdentityImpliedRole) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM implied_roles WHERE prior_role_id = ? AND implied_role_id = ?",
                arguments: [rule.priorRoleID, rule.impliedRoleID])
            return db.changesCount > 0
        }
    }
}
