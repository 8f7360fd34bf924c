import GRDB
import GlimpseCore

/// Version 2 of the identity schema: role grants on domains and the system, the scope and application credential
/// of each token, and application credentials. Grants and credentials go with their user (ON DELETE CASCADE).
extension IdentitySQLiteStore {
    static func registerScopeMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("v2-identity-scopes-application-credentials") { db in
            try db.execute(
                sql: """
                    CREATE TABLE target_assignments (
                        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                        target_type TEXT NOT NULL,
                        target_id TEXT NOT NULL,
                        role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
                        PRIMARY KEY (user_id, target_type, target_id, role_id)
                    ) WITHOUT ROWID;
                    ALTER TABLE tokens ADD COLUMN scope_system INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE tokens ADD COLUMN scope_domain_id TEXT;
                    ALTER TABLE tokens ADD COLUMN application_credential_id TEXT;
                    CREATE TABLE application_credentials (
                        id TEXT PRIMARY KEY NOT NULL,
                        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        description TEXT NOT NULL DEFAULT '',
                        project_id TEXT REFERENCES projects(id) ON DELETE CASCADE,
                        system INTEGER NOT NULL DEFAULT 0,
                        secret_hash TEXT NOT NULL,
                        expires_at INTEGER,
                        unrestricted INTEGER NOT NULL DEFAULT 0,
                        role_ids TEXT NOT NULL,
                        UNIQUE (user_id, name)
                    );
                    """)
        }
    }

    static func columns(_ target: IdentityTargetAssignment.Target) -> (type: String, id: String) {
        switch target {
        case .system: ("system", "all")
        case .domain(let id): ("domain", id)
        }
    }

    public func targetAssignments(
        userID: String?, target: IdentityTargetAssignment.Target?, roleID: String?
    ) async throws -> [IdentityTargetAssignment] {
        try await pool.read { db in
            var sql = "SELECT * FROM target_assignments WHERE 1"
            var args: [(any DatabaseValueConvertible)?] = []
            if let userID { sql += " AND user_id = ?"; args.append(userID) }
            if let target {
                let (type, id) = Self.columns(target)
                sql += " AND target_type = ? AND target_id = ?"
                args.append(type)
                args.append(id)
            }
            if let roleID { sql += " AND role_id = ?"; args.append(roleID) }
            sql += " ORDER BY target_type, target_id, user_id, role_id"
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).compactMap { r in
                let type: String = r["target_type"]
                let id: String = r["target_id"]
                let target: IdentityTargetAssignment.Target
                switch type {
                case "system": target = .system
                case "domain": target = .domain(id)
                default: return nil
                }
                return IdentityTargetAssignment(userID: r["user_id"], target: target, roleID: r["role_id"])
            }
        }
    }

    public func grant(_ a: IdentityTargetAssignment) async throws -> Bool {
        let (type, id) = Self.columns(a.target)
        return try await pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO target_assignments (user_id, target_type, target_id, role_id) VALUES (?, ?, ?, ?)",
                arguments: [a.userID, type, id, a.roleID])
            return db.changesCount > 0
        }
    }

    public func revoke(_ a: IdentityTargetAssignment) async throws -> Bool {
        let (type, id) = Self.columns(a.target)
        return try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM target_assignments WHERE user_id = ? AND target_type = ? AND target_id = ? AND role_id = ?",
                arguments: [a.userID, type, id, a.roleID])
            return db.changesCount > 0
        }
    }
}
