import GRDB
import GlimpseCore

/// Version 3 of the identity schema: groups, their members and their role grants. Memberships go with the group
/// and the user; grants go with the group, the role, and (by trigger, the target column being shared by projects
/// and domains) the project or domain.
extension IdentitySQLiteStore {
    static func registerGroupMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("v3-identity-groups") { db in
            try db.execute(
                sql: """
                    CREATE TABLE groups (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        domain_id TEXT NOT NULL REFERENCES domains(id),
                        description TEXT NOT NULL DEFAULT '',
                        extra TEXT NOT NULL DEFAULT '{}',
                        UNIQUE (domain_id, name)
                    );
                    CREATE TABLE group_members (
                        group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                        PRIMARY KEY (group_id, user_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX group_members_user ON group_members(user_id);
                    CREATE TABLE group_assignments (
                        group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                        target_type TEXT NOT NULL,
                        target_id TEXT NOT NULL,
                        role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
                        PRIMARY KEY (group_id, target_type, target_id, role_id)
                    ) WITHOUT ROWID;
                    CREATE TRIGGER group_assignments_project_gone AFTER DELETE ON projects BEGIN
                        DELETE FROM group_assignments WHERE target_type = 'project' AND target_id = OLD.id;
                    END;
                    CREATE TRIGGER group_assignments_domain_gone AFTER DELETE ON domains BEGIN
                        DELETE FROM group_assignments WHERE target_type = 'domain' AND target_id = OLD.id;
                    END;
                    """)
        }
    }

    static func group(_ r: Row) -> IdentityGroup {
        IdentityGroup(id: r["id"], name: r["name"], domainID: r["domain_id"], description: r["description"], extraJSON: r["extra"])
    }

    public func groups() async throws -> [IdentityGroup] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM groups ORDER BY name, id").map(Self.group) }
    }

    public func group(id: String) async throws -> IdentityGroup? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM groups WHERE id = ?", arguments: [id]).map(Self.group)
        }
    }

    public func insertGroup(_ g: IdentityGroup) async throws {
        try await insert("group") { db in
            try db.execute(
                sql: "INSERT INTO groups (id, name, domain_id, description, extra) VALUES (?, ?, ?, ?, ?)",
                arguments: [g.id, g.name, g.domainID, g.description, g.extraJSON])
        }
    }

    public func updateGroup(_ g: IdentityGroup) async throws {
        try await insert("group") { db in
            try db.execute(
                sql: "UPDATE groups SET name = ?, description = ?, extra = ? WHERE id = ?",
                arguments: [g.name, g.description, g.extraJSON, g.id])
        }
    }

    public func deleteGroup(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM groups WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func addMember(groupID: String, userID: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?, ?)", arguments: [groupID, userID])
            return db.changesCount > 0
        }
    }

    public func removeMember(groupID: String, userID: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM group_members WHERE group_id = ? AND user_id = ?", arguments: [groupID, userID])
            return db.changesCount > 0
        }
    }

    public func memberIDs(groupID: String) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT user_id FROM group_members WHERE group_id = ? ORDER BY user_id", arguments: [groupID])
        }
    }

    public func groupIDs(userID: String) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT group_id FROM group_members WHERE user_id = ? ORDER BY group_id", arguments: [userID])
        }
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
        try await pool.read { db in
            var sql = "SELECT * FROM group_assignments WHERE 1"
            var args: [(any DatabaseValueConvertible)?] = []
            if let groupID { sql += " AND group_id = ?"; args.append(groupID) }
            if let target {
                let (type, id) = Self.columns(target)
                sql += " AND target_type = ? AND target_id = ?"
                args.append(type)
                args.append(id)
            }
            if let roleID { sql += " AND role_id = ?"; args.append(roleID) }
            sql += " ORDER BY target_type, target_id, group_id, role_id"
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).compactMap { r in
                let type: String = r["target_type"]
                let id: String = r["target_id"]
                let target: IdentityGroupAssignment.Target
                switch type {
                case "project": target = .project(id)
                case "domain": target = .domain(id)
                case "system": target = .system
                default: return nil
                }
                return IdentityGroupAssignment(groupID: r["group_id"], target: target, roleID: r["role_id"])
            }
        }
    }

    public func grant(_ a: IdentityGroupAssignment) async throws -> Bool {
        let (type, id) = Self.columns(a.target)
        return try await pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO group_assignments (group_id, target_type, target_id, role_id) VALUES (?, ?, ?, ?)",
                arguments: [a.groupID, type, id, a.roleID])
            return db.changesCount > 0
        }
    }

    public func revoke(_ a: IdentityGroupAssignment) async throws -> Bool {
        let (type, id) = Self.columns(a.target)
        return try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM group_assignments WHERE group_id = ? AND target_type = ? AND target_id = ? AND role_id = ?",
                arguments: [a.groupID, type, id, a.roleID])
            return db.changesCount > 0
        }
    }
}
