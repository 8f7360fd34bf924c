import GRDB
import GlimpseCore

/// `IdentityStore` on SQLite through GRDB (its own file, `identity.sqlite`, next to the image metadata).
public final class IdentitySQLiteStore: IdentityStore {
    let pool: DatabasePool

    public init(path: String) throws {
        pool = try EmbeddedSQLite.openPool(at: path)
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-identity") { db in
            try db.execute(
                sql: """
                    CREATE TABLE domains (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL UNIQUE,
                        description TEXT NOT NULL DEFAULT '',
                        enabled INTEGER NOT NULL DEFAULT 1
                    );
                    CREATE TABLE projects (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        domain_id TEXT NOT NULL REFERENCES domains(id),
                        description TEXT NOT NULL DEFAULT '',
                        enabled INTEGER NOT NULL DEFAULT 1,
                        extra TEXT NOT NULL DEFAULT '{}',
                        UNIQUE (domain_id, name)
                    );
                    CREATE TABLE users (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        domain_id TEXT NOT NULL REFERENCES domains(id),
                        enabled INTEGER NOT NULL DEFAULT 1,
                        default_project_id TEXT,
                        password_hash TEXT,
                        extra TEXT NOT NULL DEFAULT '{}',
                        UNIQUE (domain_id, name)
                    );
                    CREATE TABLE roles (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL UNIQUE,
                        description TEXT NOT NULL DEFAULT ''
                    );
                    CREATE TABLE implied_roles (
                        prior_role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
                        implied_role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
                        PRIMARY KEY (prior_role_id, implied_role_id)
                    ) WITHOUT ROWID;
                    CREATE TABLE assignments (
                        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                        role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
                        PRIMARY KEY (user_id, project_id, role_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX assignments_project ON assignments(project_id);
                    CREATE TABLE tokens (
                        hash TEXT PRIMARY KEY NOT NULL,
                        user_id TEXT NOT NULL,
                        project_id TEXT,
                        methods TEXT NOT NULL,
                        issued_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        audit_id TEXT NOT NULL,
                        parent_audit_id TEXT,
                        revoked INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;
                    CREATE INDEX tokens_user ON tokens(user_id);
                    CREATE INDEX tokens_expiry ON tokens(expires_at);
                    """)
        }
        registerScopeMigrations(&m)
        registerGroupMigrations(&m)
        registerDomainRoleMigrations(&m)
        registerCredentialMigrations(&m)
        registerCatalogMigrations(&m)
        return m
    }

    static func isUniqueViolation(_ error: any Error) -> Bool {
        guard let e = error as? DatabaseError else { return false }
        return e.resultCode == .SQLITE_CONSTRAINT
    }

    func insert(_ what: String, _ body: @escaping @Sendable (Database) throws -> Void) async throws {
        do {
            try await pool.write { db in try body(db) }
        } catch {
            if Self.isUniqueViolation(error) { throw GlimpseError.conflict("Conflict occurred attempting to store \(what).") }
            throw error
        }
    }

    // MARK: domains

    static func domain(_ r: Row) -> IdentityDomain {
        IdentityDomain(id: r["id"], name: r["name"], description: r["description"], enabled: r["enabled"])
    }

    public func domains() async throws -> [IdentityDomain] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM domains ORDER BY name").map(Self.domain) }
    }

    public func domain(id: String) async throws -> IdentityDomain? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM domains WHERE id = ?", arguments: [id]).map(Self.domain) }
    }

    public func insertDomain(_ d: IdentityDomain) async throws {
        try await insert("domain") { db in
            try db.execute(
                sql: "INSERT INTO domains (id, name, description, enabled) VALUES (?, ?, ?, ?)",
                arguments: [d.id, d.name, d.description, d.enabled])
        }
    }

    // MARK: projects

    static func project(_ r: Row) -> IdentityProject {
        IdentityProject(
            id: r["id"], name: r["name"], domainID: r["domain_id"], description: r["description"], enabled: r["enabled"],
            extraJSON: r["extra"])
    }

    public func projects() async throws -> [IdentityProject] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM projects ORDER BY name, id").map(Self.project) }
    }

    public func project(id: String) async throws -> IdentityProject? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM projects WHERE id = ?", arguments: [id]).map(Self.project)
        }
    }

    public func insertProject(_ p: IdentityProject) async throws {
        try await insert("project") { db in
            try db.execute(
                sql: "INSERT INTO projects (id, name, domain_id, description, enabled, extra) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [p.id, p.name, p.domainID, p.description, p.enabled, p.extraJSON])
        }
    }

    public func updateProject(_ p: IdentityProject) async throws {
        try await insert("project") { db in
            try db.execute(
                sql: "UPDATE projects SET name = ?, description = ?, enabled = ?, extra = ? WHERE id = ?",
                arguments: [p.name, p.description, p.enabled, p.extraJSON, p.id])
        }
    }

    public func deleteProject(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM projects WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    // MARK: users

    static func user(_ r: Row) -> IdentityUser {
        IdentityUser(
            id: r["id"], name: r["name"], domainID: r["domain_id"], enabled: r["enabled"],
            defaultProjectID: r["default_project_id"], passwordHash: r["password_hash"], extraJSON: r["extra"])
    }

    public func users() async throws -> [IdentityUser] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY name, id").map(Self.user) }
    }

    public func user(id: String) async throws -> IdentityUser? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]).map(Self.user) }
    }

    public func user(name: String, domainID: String) async throws -> IdentityUser? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE name = ? AND domain_id = ?", arguments: [name, domainID])
                .map(Self.user)
        }
    }

    public func insertUser(_ u: IdentityUser) async throws {
        try await insert("user") { db in
            try db.execute(
                sql: """
                    INSERT INTO users (id, name, domain_id, enabled, default_project_id, password_hash, extra)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [u.id, u.name, u.domainID, u.enabled, u.defaultProjectID, u.passwordHash, u.extraJSON])
        }
    }

    public func updateUser(_ u: IdentityUser) async throws {
        try await insert("user") { db in
            try db.execute(
                sql: """
                    UPDATE users SET name = ?, enabled = ?, default_project_id = ?, password_hash = ?, extra = ?
                    WHERE id = ?
                    """,
                arguments: [u.name, u.enabled, u.defaultProjectID, u.passwordHash, u.extraJSON, u.id])
        }
    }

    public func deleteUser(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [id])
            let deleted = db.changesCount > 0
            try db.execute(sql: "UPDATE tokens SET revoked = 1 WHERE user_id = ?", arguments: [id])
            return deleted
        }
    }

    // MARK: roles

    public func roles() async throws -> [IdentityRole] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM roles ORDER BY name").map(Self.role)
        }
    }

    public func insertRole(_ r: IdentityRole) async throws {
        try await insert("role") { db in
            try db.execute(
                sql: "INSERT INTO roles (id, name, description, domain_id) VALUES (?, ?, ?, ?)",
                arguments: [r.id, r.name, r.description, r.domainID ?? ""])
        }
    }

    public func deleteRole(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM roles WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func impliedRoles() async throws -> [IdentityImpliedRole] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM implied_roles").map {
                IdentityImpliedRole(priorRoleID: $0["prior_role_id"], impliedRoleID: $0["implied_role_id"])
            }
        }
    }

    public func insertImpliedRole(_ rule: IdentityImpliedRole) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO implied_roles (prior_role_id, implied_role_id) VALUES (?, ?)",
                arguments: [rule.priorRoleID, rule.impliedRoleID])
        }
    }

    // MARK: assignments

    public func assignments(userID: String?, projectID: String?, roleID: String?) async throws -> [IdentityRoleAssignment] {
        try await pool.read { db in
            var sql = "SELECT * FROM assignments WHERE 1"
            var args: [(any DatabaseValueConvertible)?] = []
            if let userID { sql += " AND user_id = ?"; args.append(userID) }
            if let projectID { sql += " AND project_id = ?"; args.append(projectID) }
            if let roleID { sql += " AND role_id = ?"; args.append(roleID) }
            sql += " ORDER BY project_id, user_id, role_id"
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map {
                IdentityRoleAssignment(userID: $0["user_id"], projectID: $0["project_id"], roleID: $0["role_id"])
            }
        }
    }

    public func grant(_ a: IdentityRoleAssignment) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO assignments (user_id, project_id, role_id) VALUES (?, ?, ?)",
                arguments: [a.userID, a.projectID, a.roleID])
            return db.changesCount > 0
        }
    }

    public func revoke(_ a: IdentityRoleAssignment) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM assignments WHERE user_id = ? AND project_id = ? AND role_id = ?",
                arguments: [a.userID, a.projectID, a.roleID])
            return db.changesCount > 0
        }
    }

    // MARK: tokens

    public func insertToken(_ t: IdentityTokenRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO tokens (hash, user_id, project_id, methods, issued_at, expires_at, audit_id, parent_audit_id,
                        revoked, scope_system, scope_domain_id, application_credential_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    t.hash, t.userID, t.projectID, t.methods.joined(separator: ","), t.issuedAt.microseconds,
                    t.expiresAt.microseconds, t.auditID, t.parentAuditID, t.revoked, t.system, t.domainID,
                    t.applicationCredentialID,
                ])
        }
    }

    public func token(hash: String) async throws -> IdentityTokenRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE hash = ?", arguments: [hash]).map { r in
                let methods: String = r["methods"]
                return IdentityTokenRecord(
                    hash: r["hash"], userID: r["user_id"], projectID: r["project_id"],
                    methods: methods.split(separator: ",").map(String.init),
                    issuedAt: Timestamp(microseconds: r["issued_at"]), expiresAt: Timestamp(microseconds: r["expires_at"]),
                    auditID: r["audit_id"], parentAuditID: r["parent_audit_id"], revoked: r["revoked"],
                    system: r["scope_system"], domainID: r["scope_domain_id"],
                    applicationCredentialID: r["application_credential_id"])
            }
        }
    }

    public func revokeToken(hash: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE tokens SET revoked = 1 WHERE hash = ? AND revoked = 0", arguments: [hash])
            return db.changesCount > 0
        }
    }

    public func revokeTokens(userID: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE tokens SET revoked = 1 WHERE user_id = ?", arguments: [userID])
        }
    }

    public func purgeTokens(expiredBefore now: Timestamp) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM tokens WHERE expires_at < ?", arguments: [now.microseconds])
        }
    }
}
