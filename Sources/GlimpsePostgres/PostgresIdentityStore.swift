import GlimpseCore
import GlimpseStorage
import Logging
import PostgresNIO

/// `IdentityStore` on PostgreSQL, so that every Glimpse node on one database shares one identity. Same semantics
/// as the SQLite store (uniqueness, cascades, list order); one transaction per mutation, deletes that take
/// children with them lock the parent row first so a concurrent insert on another node either lands before
/// (and is deleted too) or fails. Nothing is kept in memory; every mutation but a token's issue increases the
/// change version in the same transaction, which is how every node's token cache learns of it.
public final class PostgresIdentityStore: IdentityStore {
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>

    private init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        runner = Task { await client.run() }
    }

    deinit { runner.cancel() }

    /// Connects a pool with `configuration` and brings the identity schema up to date; fails with 503
    /// `unavailable` after `startupTimeout`.
    public static func open(
        _ configuration: PostgresClient.Configuration, startupTimeout: Duration = PostgresStartup.defaultTimeout,
        logger: Logger
    ) async throws -> PostgresIdentityStore {
        let store = PostgresIdentityStore(client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger)
        let client = store.client
        _ = try await PostgresStartup.within(startupTimeout) {
            try await PostgresIdentitySchema.migrations.run(on: client, logger: logger)
        }
        return store
    }

    // MARK: plumbing

    /// Every mutation goes through here: one connection, one transaction.
    func transaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await PostgresTransaction.run(on: connection, logger: logger, body)
        }
    }

    /// A mutation whose duplicate key or missing referenced row is the caller's conflict (as SQLite's constraint
    /// errors are in the SQLite store). Unless `invalidates` is false (issuing or purging tokens, which cannot make a
    /// remembered validation wrong), it increases the change version, last so the version row is locked briefly.
    func storing<T: Sendable>(
        _ what: String, invalidates: Bool = true, _ body: @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        do {
            return try await transaction { db in
                let value = try await body(db)
                if invalidates {
                    try await db.query("UPDATE identity_change_version SET version = version + 1", logger: logger)
                }
                return value
            }
        } catch let error as PSQLError {
            let state = error.serverInfo?[.sqlState]
            if state == "23505" || state == "23503" {
                throw GlimpseError.conflict("Conflict occurred attempting to store \(what).")
            }
            throw error
        }
    }

    /// One statement in its own transaction; true when it returned a row (statements end in `RETURNING ...`).
    func changed(_ what: String, _ query: PostgresQuery) async throws -> Bool {
        try await storing(what) { db in try await !db.query(query, logger: logger).collect().isEmpty }
    }

    /// Reads run on one connection; a single statement sees one snapshot.
    func read<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in try await body(connection) }
    }

    /// Never nil here: nil would tell the identity service to trust its cache as if no other node existed.
    public func changeVersion() async throws -> Int64? {
        try await read { db in
            for try await value in try await db.query("SELECT version FROM identity_change_version", logger: logger)
                .decode(Int64.self)
            {
                return value
            }
            throw GlimpseError(.internalError, "the identity change version row is missing from the database")
        }
    }

    func strings(_ query: PostgresQuery) async throws -> [String] {
        try await read { db in
            var result: [String] = []
            for try await value in try await db.query(query, logger: logger).decode(String.self) { result.append(value) }
            return result
        }
    }

    // MARK: domains

    func domains(_ query: PostgresQuery) async throws -> [IdentityDomain] {
        try await read { db in
            var result: [IdentityDomain] = []
            for try await (id, name, description, enabled) in try await db.query(query, logger: logger)
                .decode((String, String, String, Bool).self)
            {
                result.append(IdentityDomain(id: id, name: name, description: description, enabled: enabled))
            }
            return result
        }
    }

    public func domains() async throws -> [IdentityDomain] {
        try await domains("SELECT id, name, description, enabled FROM identity_domains ORDER BY name")
    }

    public func domain(id: String) async throws -> IdentityDomain? {
        try await domains("SELECT id, name, description, enabled FROM identity_domains WHERE id = \(id)").first
    }

    public func insertDomain(_ d: IdentityDomain) async throws {
        try await storing("domain") { db in
            _ = try await db.query(
                "INSERT INTO identity_domains (id, name, description, enabled) VALUES (\(d.id), \(d.name), \(d.description), \(d.enabled))",
                logger: logger)
        }
    }

    // MARK: projects

    func projects(_ query: PostgresQuery) async throws -> [IdentityProject] {
        try await read { db in
            var result: [IdentityProject] = []
            for try await (id, name, domainID, description, enabled, extra) in try await db.query(query, logger: logger)
                .decode((String, String, String, String, Bool, String).self)
            {
                result.append(IdentityProject(
                    id: id, name: name, domainID: domainID, description: description, enabled: enabled, extraJSON: extra))
            }
            return result
        }
    }

    public func projects() async throws -> [IdentityProject] {
        try await projects(
            "SELECT id, name, domain_id, description, enabled, extra FROM identity_projects ORDER BY name, id")
    }

    public func project(id: String) async throws -> IdentityProject? {
        try await projects(
            "SELECT id, name, domain_id, description, enabled, extra FROM identity_projects WHERE id = \(id)").first
    }

    public func insertProject(_ p: IdentityProject) async throws {
        try await storing("project") { db in
            _ = try await db.query(
                """
                INSERT INTO identity_projects (id, name, domain_id, description, enabled, extra)
                VALUES (\(p.id), \(p.name), \(p.domainID), \(p.description), \(p.enabled), \(p.extraJSON))
                """, logger: logger)
        }
    }

    public func updateProject(_ p: IdentityProject) async throws {
        try await storing("project") { db in
            _ = try await db.query(
                """
                UPDATE identity_projects SET name = \(p.name), description = \(p.description), enabled = \(p.enabled),
                    extra = \(p.extraJSON) WHERE id = \(p.id)
                """, logger: logger)
        }
    }

    /// Takes the project's grants (to users and groups), credentials and application credentials with it.
    public func deleteProject(id: String) async throws -> Bool {
        try await storing("project") { db in
            let deleted = try await !db.query(
                "DELETE FROM identity_projects WHERE id = \(id) RETURNING id", logger: logger
            ).collect().isEmpty
            try await db.query(
                "DELETE FROM identity_group_assignments WHERE target_type = 'project' AND target_id = \(id)", logger: logger)
            return deleted
        }
    }

    // MARK: users

    func users(_ query: PostgresQuery) async throws -> [IdentityUser] {
        try await read { db in
            var result: [IdentityUser] = []
            for try await (id, name, domainID, enabled, defaultProject, passwordHash, extra) in try await db.query(
                query, logger: logger
            ).decode((String, String, String, Bool, String?, String?, String).self) {
                result.append(IdentityUser(
                    id: id, name: name, domainID: domainID, enabled: enabled, defaultProjectID: defaultProject,
                    passwordHash: passwordHash, extraJSON: extra))
            }
            return result
        }
    }

    public func users() async throws -> [IdentityUser] {
        try await users(
            "SELECT id, name, domain_id, enabled, default_project_id, password_hash, extra FROM identity_users ORDER BY name, id")
    }

    public func user(id: String) async throws -> IdentityUser? {
        try await users(
            "SELECT id, name, domain_id, enabled, default_project_id, password_hash, extra FROM identity_users WHERE id = \(id)"
        ).first
    }

    public func user(name: String, domainID: String) async throws -> IdentityUser? {
        try await users(
            """
            SELECT id, name, domain_id, enabled, default_project_id, password_hash, extra FROM identity_users
            WHERE name = \(name) AND domain_id = \(domainID)
            """
        ).first
    }

    public func insertUser(_ u: IdentityUser) async throws {
        try await storing("user") { db in
            _ = try await db.query(
                """
                INSERT INTO identity_users (id, name, domain_id, enabled, default_project_id, password_hash, extra)
                VALUES (\(u.id), \(u.name), \(u.domainID), \(u.enabled), \(u.defaultProjectID), \(u.passwordHash), \(u.extraJSON))
                """, logger: logger)
        }
    }

    public func updateUser(_ u: IdentityUser) async throws {
        try await storing("user") { db in
            _ = try await db.query(
                """
                UPDATE identity_users SET name = \(u.name), enabled = \(u.enabled), default_project_id = \(u.defaultProjectID),
                    password_hash = \(u.passwordHash), extra = \(u.extraJSON) WHERE id = \(u.id)
                """, logger: logger)
        }
    }

    /// Takes the user's grants, memberships and credentials with it, and revokes its tokens.
    public func deleteUser(id: String) async throws -> Bool {
        try await storing("user") { db in
            let deleted = try await !db.query(
                "DELETE FROM identity_users WHERE id = \(id) RETURNING id", logger: logger
            ).collect().isEmpty
            try await db.query("UPDATE identity_tokens SET revoked = TRUE WHERE user_id = \(id)", logger: logger)
            return deleted
        }
    }
}
