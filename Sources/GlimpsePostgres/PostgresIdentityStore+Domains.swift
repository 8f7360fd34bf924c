import GlimpseCore
import GlimpseStorage
import PostgresNIO

/// Updating and deleting domains. Deleting a domain takes everything in it in one transaction: its projects,
/// users (whose tokens are revoked), groups, domain-specific roles and the grants on it.
extension PostgresIdentityStore {
    public func updateDomain(_ d: IdentityDomain) async throws {
        try await storing("domain") { db in
            _ = try await db.query(
                "UPDATE identity_domains SET name = \(d.name), description = \(d.description), enabled = \(d.enabled) WHERE id = \(d.id)",
                logger: logger)
        }
    }

    public func deleteDomain(id: String) async throws -> Bool {
        try await storing("domain") { db in
            // Locked first: an insert into the domain on another node waits for this transaction, then fails on the
            // missing domain, instead of leaving a project or user behind in a domain that is gone.
            let exists = try await !db.query(
                "SELECT 1 FROM identity_domains WHERE id = \(id) FOR UPDATE", logger: logger
            ).collect().isEmpty
            guard exists else { return false }
            let statements: [PostgresQuery] = [
                """
                UPDATE identity_tokens SET revoked = TRUE
                WHERE user_id IN (SELECT id FROM identity_users WHERE domain_id = \(id))
                    OR project_id IN (SELECT id FROM identity_projects WHERE domain_id = \(id))
                    OR scope_domain_id = \(id)
                """,
                """
                DELETE FROM identity_group_assignments WHERE target_type = 'project'
                    AND target_id IN (SELECT id FROM identity_projects WHERE domain_id = \(id))
                """,
                "DELETE FROM identity_group_assignments WHERE target_type = 'domain' AND target_id = \(id)",
                "DELETE FROM identity_groups WHERE domain_id = \(id)",
                "DELETE FROM identity_users WHERE domain_id = \(id)",
                "DELETE FROM identity_projects WHERE domain_id = \(id)",
                "DELETE FROM identity_roles WHERE domain_id = \(id)",
                "DELETE FROM identity_target_assignments WHERE target_type = 'domain' AND target_id = \(id)",
                "DELETE FROM identity_domains WHERE id = \(id)",
            ]
            for statement in statements { try await db.query(statement, logger: logger) }
            return true
        }
    }

    /// Holds the project or domain a grant names until the grant's transaction ends, so that it cannot be deleted
    /// in between (the grant would outlive it); throws 404 when it is already gone.
    func lockTarget(type: String, id: String, on db: PostgresConnection) async throws {
        let query: PostgresQuery
        switch type {
        case "project": query = "SELECT 1 FROM identity_projects WHERE id = \(id) FOR KEY SHARE"
        case "domain": query = "SELECT 1 FROM identity_domains WHERE id = \(id) FOR KEY SHARE"
        default: return
        }
        if try await db.query(query, logger: logger).collect().isEmpty {
            throw GlimpseError.notFound("Could not find \(type): \(id).")
        }
    }
}
