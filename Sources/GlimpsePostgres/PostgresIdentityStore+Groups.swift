import GlimpseCore
import GlimpseStorage
import PostgresNIO

/// Groups, their members and their role grants on projects, domains and the system. Memberships and grants go
/// with the group, the user and the role (foreign keys) and with the project or domain (deleted with it).
extension PostgresIdentityStore {
    func groups(_ query: PostgresQuery) async throws -> [IdentityGroup] {
        try await read { db in
            var result: [IdentityGroup] = []
            for try await (id, name, domainID, description, extra) in try await db.query(query, logger: logger)
                .decode((String, String, String, String, String).self)
            {
                result.append(IdentityGroup(id: id, name: name, domainID: domainID, description: description, extraJSON: extra))
            }
            return result
        }
    }

    public func groups() async throws -> [IdentityGroup] {
        try await groups("SELECT id, name, domain_id, description, extra FROM identity_groups ORDER BY name, id")
    }

    public func group(id: String) async throws -> IdentityGroup? {
        try await groups("SELECT id, name, domain_id, description, extra FROM identity_groups WHERE id = \(id)").first
    }

    public func insertGroup(_ g: IdentityGroup) async throws {
        try await storing("group") { db in
            _ = try await db.query(
                """
                INSERT INTO identity_groups (id, name, domain_id, description, extra)
                VALUES (\(g.id), \(g.name), \(g.domainID), \(g.description), \(g.extraJSON))
                """, logger: logger)
        }
    }

    public func updateGroup(_ g: IdentityGroup) async throws {
        try await storing("group") { db in
            _ = try await db.query(
                "UPDATE identity_groups SET name = \(g.name), description = \(g.description), extra = \(g.extraJSON) WHERE id = \(g.id)",
                logger: logger)
        }
    }

    public func deleteGroup(id: String) async throws -> Bool {
        try await changed("group", "DELETE FROM identity_groups WHERE id = \(id) RETURNING id")
    }

    public func addMember(groupID: String, userID: String) async throws -> Bool {
        try await changed(
            "group membership",
            """
            INSERT INTO identity_group_members (group_id, user_id) VALUES (\(groupID), \(userID))
            ON CONFLICT DO NOTHING RETURNING group_id
            """)
    }

    public func removeMember(groupID: String, userID: String) async throws -> Bool {
        try await changed(
            "group membership",
            "DELETE FROM identity_group_members WHERE group_id = \(groupID) AND user_id = \(userID) RETURNING group_id")
    }

    public func memberIDs(groupID: String) async throws -> [String] {
        try await strings("SELECT user_id FROM identity_group_members WHERE group_id = \(groupID) ORDER BY user_id")
    }

    public func groupIDs(userID: String) async throws -> [String] {
        try await strings("SELECT group_id FROM identity_group_members WHERE user_id = \(userID) ORDER BY group_id")
    }

    static func columns(_ target: IdentityGroupAssignment.Target) -> (type: String, id: String) {
        switch target {
        case .project(let id): ("project", id)
        case .domain(let id): ("domain", id)
        case .system: ("system", "all")
        }
    }

    public func groupAssignments(
        groupID: String?, target: IdentityGroupAssignment.Target?, roleID: String?
    ) async throws -> [IdentityGroupAssignment] {
        let columns = target.map(Self.columns)
        let type = columns?.type
        let targetID = columns?.id
        return try await read { db in
            var result: [IdentityGroupAssignment] = []
            for try await (group, type, id, role) in try await db.query(
                """
                SELECT group_id, target_type, target_id, role_id FROM identity_group_assignments
                WHERE (\(groupID)::text IS NULL OR group_id = \(groupID))
                    AND (\(type)::text IS NULL OR (target_type = \(type) AND target_id = \(targetID)))
                    AND (\(roleID)::text IS NULL OR role_id = \(roleID))
                ORDER BY target_type, target_id, group_id, role_id
                """, logger: logger
            ).decode((String, String, String, String).self) {
                let target: IdentityGroupAssignment.Target
                switch type {
                case "project": target = .project(id)
                case "domain": target = .domain(id)
                case "system": target = .system
                default: continue
                }
                result.append(IdentityGroupAssignment(groupID: group, target: target, roleID: role))
            }
            return result
        }
    }

    public func grant(_ a: IdentityGroupAssignment) async throws -> Bool {
        let (type, id) = Self.columns(a.target)
        return try await storing("group role assignment") { db in
            try await lockTarget(type: type, id: id, on: db)
            return try await !db.query(
                """
                INSERT INTO identity_group_assignments (group_id, target_type, target_id, role_id)
                VALUES (\(a.groupID), \(type), \(id), \(a.roleID)) ON CONFLICT DO NOTHING RETURNING group_id
                """, logger: logger
            ).collect().isEmpty
        }
    }

    public func revoke(_ a: IdentityGroupAssignment) async throws -> Bool {
        let (type, id) = Self.columns(a.target)
        return try await changed(
            "group role assignment",
            """
            DELETE FROM identity_group_assignments WHERE group_id = \(a.groupID) AND target_type = \(type)
                AND target_id = \(id) AND role_id = \(a.roleID) RETURNING group_id
            """)
    }
}
