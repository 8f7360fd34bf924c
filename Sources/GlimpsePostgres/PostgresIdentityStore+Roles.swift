import GlimpseCore
import GlimpseStorage
import PostgresNIO

/// Roles (global ones keep domain_id '' so their names share one name space), the rules between them, and the
/// grants of roles to users on projects. Deleting a role takes its rules and every grant of it (foreign keys).
extension PostgresIdentityStore {
    public func roles() async throws -> [IdentityRole] {
        try await read { db in
            var result: [IdentityRole] = []
            for try await (id, name, description, domainID) in try await db.query(
                "SELECT id, name, description, domain_id FROM identity_roles ORDER BY name", logger: logger
            ).decode((String, String, String, String).self) {
                result.append(IdentityRole(
                    id: id, name: name, description: description, domainID: domainID.isEmpty ? nil : domainID))
            }
            return result
        }
    }

    public func insertRole(_ r: IdentityRole) async throws {
        let domainID = r.domainID ?? ""
        try await storing("role") { db in
            _ = try await db.query(
                "INSERT INTO identity_roles (id, name, description, domain_id) VALUES (\(r.id), \(r.name), \(r.description), \(domainID))",
                logger: logger)
        }
    }

    public func updateRole(_ r: IdentityRole) async throws {
        try await storing("role") { db in
            _ = try await db.query(
                "UPDATE identity_roles SET name = \(r.name), description = \(r.description) WHERE id = \(r.id)", logger: logger)
        }
    }

    public func deleteRole(id: String) async throws -> Bool {
        try await changed("role", "DELETE FROM identity_roles WHERE id = \(id) RETURNING id")
    }

    public func impliedRoles() async throws -> [IdentityImpliedRole] {
        try await read { db in
            var result: [IdentityImpliedRole] = []
            for try await (prior, implied) in try await db.query(
                "SELECT prior_role_id, implied_role_id FROM identity_implied_roles ORDER BY prior_role_id, implied_role_id",
                logger: logger
            ).decode((String, String).self) {
                result.append(IdentityImpliedRole(priorRoleID: prior, impliedRoleID: implied))
            }
            return result
        }
    }

    public func insertImpliedRole(_ rule: IdentityImpliedRole) async throws {
        try await storing("implied role") { db in
            _ = try await db.query(
                """
                INSERT INTO identity_implied_roles (prior_role_id, implied_role_id)
                VALUES (\(rule.priorRoleID), \(rule.impliedRoleID)) ON CONFLICT DO NOTHING
                """, logger: logger)
        }
    }

    public func deleteImpliedRole(_ rule: IdentityImpliedRole) async throws -> Bool {
        try await changed(
            "implied role",
            """
            DELETE FROM identity_implied_roles WHERE prior_role_id = \(rule.priorRoleID)
                AND implied_role_id = \(rule.impliedRoleID) RETURNING prior_role_id
            """)
    }

    // MARK: grants on projects

    public func assignments(userID: String?, projectID: String?, roleID: String?) async throws -> [IdentityRoleAssignment] {
        try await read { db in
            var result: [IdentityRoleAssignment] = []
            for try await (user, project, role) in try await db.query(
                """
                SELECT user_id, project_id, role_id FROM identity_assignments
                WHERE (\(userID)::text IS NULL OR user_id = \(userID))
                    AND (\(projectID)::text IS NULL OR project_id = \(projectID))
                    AND (\(roleID)::text IS NULL OR role_id = \(roleID))
                ORDER BY project_id, user_id, role_id
                """, logger: logger
            ).decode((String, String, String).self) {
                result.append(IdentityRoleAssignment(userID: user, projectID: project, roleID: role))
            }
            return result
        }
    }

    public func grant(_ a: IdentityRoleAssignment) async throws -> Bool {
        try await changed(
            "role assignment",
            """
            INSERT INTO identity_assignments (user_id, project_id, role_id) VALUES (\(a.userID), \(a.projectID), \(a.roleID))
            ON CONFLICT DO NOTHING RETURNING user_id
            """)
    }

    public func revoke(_ a: IdentityRoleAssignment) async throws -> Bool {
        try await changed(
            "role assignment",
            """
            DELETE FROM identity_assignments WHERE user_id = \(a.userID) AND project_id = \(a.projectID)
                AND role_id = \(a.roleID) RETURNING user_id
            """)
    }
}
