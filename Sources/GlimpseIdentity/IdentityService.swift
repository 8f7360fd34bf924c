import Foundation
import GlimpseCore
import GlimpseStorage
import Logging
import Synchronization

/// Settings of the built-in identity service.
public struct IdentityOptions: Sendable {
    /// The listener's public URL (no trailing slash); the catalog and links are built from it.
    public var publicURL: String
    /// Token lifetime in seconds (Keystone's `[token] expiration`, default 3600).
    public var tokenLifetime: Int
    /// How long a validated token is trusted from memory before the store is asked again.
    public var cacheTTL: Duration
    /// PBKDF2 rounds for new password hashes.
    public var passwordRounds: Int
    public var region: String

    public init(
        publicURL: String, tokenLifetime: Int = 3600, cacheTTL: Duration = .seconds(5),
        passwordRounds: Int = PasswordHasher.defaultRounds, region: String = "RegionOne"
    ) {
        self.publicURL = publicURL
        self.tokenLifetime = tokenLifetime
        self.cacheTTL = cacheTTL
        self.passwordRounds = passwordRounds
        self.region = region
    }
}

/// A token that validated: who it is for, what it is scoped to, and the effective roles.
public struct AuthContext: Sendable {
    public var token: IdentityTokenRecord
    public var user: IdentityUser
    public var userDomain: IdentityDomain
    public var project: IdentityProject?
    public var projectDomain: IdentityDomain?
    /// Effective roles (implied roles expanded), sorted by name.
    public var roles: [IdentityRole]

    public var roleNames: Set<String> { Set(roles.map(\.name)) }
    public var isAdmin: Bool { project != nil && roles.contains { $0.name == "admin" } }
    public var caller: Caller { Caller(userID: user.id, projectID: project?.id, roles: roleNames) }
    public var auditIDs: [String] { [token.auditID] + (token.parentAuditID.map { [$0] } ?? []) }
}

/// The built-in identity: bootstrap, password and token authentication, token validation behind a small cache,
/// revocation, and the administration of domains, projects, users, roles and assignments.
public final class IdentityService: Sendable {
    public let store: any IdentityStore
    public let options: IdentityOptions
    let logger: Logger
    let cache: TokenCache
    let issued = Atomic<Int>(0)

    public static let defaultDomainID = "default"

    public init(store: any IdentityStore, options: IdentityOptions, logger: Logger) {
        self.store = store
        self.options = options
        self.logger = logger
        self.cache = TokenCache(ttl: options.cacheTTL)
    }

    static func now() -> Timestamp {
        Timestamp(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
    }

    // MARK: bootstrap

    public struct BootstrapResult: Sendable {
        /// True when this call created the admin user (first start).
        public var createdAdmin: Bool
        /// True when the admin password was set or reset from the given password.
        public var passwordSet: Bool
        /// The password to put in openrc, when known (given, or generated now).
        public var password: String?
        public var generated: Bool
    }

    /// First start: domain `Default`, roles admin ⇒ member ⇒ reader, project `admin`, user `admin` with role
    /// `admin` on it. Later starts only repair what is missing and, when `adminPassword` is given and differs,
    /// reset the admin password (as `keystone-manage bootstrap` does).
    public func bootstrap(adminPassword: String?) async throws -> BootstrapResult {
        try await store.purgeTokens(expiredBefore: Self.now())
        if try await store.domain(id: Self.defaultDomainID) == nil {
            try await store.insertDomain(
                IdentityDomain(id: Self.defaultDomainID, name: "Default", description: "The default domain"))
        }
        var roles = try await store.roles()
        func role(_ name: String) async throws -> IdentityRole {
            if let r = roles.first(where: { $0.name == name }) { return r }
            let r = IdentityRole(id: TokenCodec.newID(), name: name)
            try await store.insertRole(r)
            roles.append(r)
            return r
        }
        let admin = try await role("admin")
        let member = try await role("member")
        let reader = try await role("reader")
        _ = try await role("service")
        try await store.insertImpliedRole(IdentityImpliedRole(priorRoleID: admin.id, impliedRoleID: member.id))
        try await store.insertImpliedRole(IdentityImpliedRole(priorRoleID: member.id, impliedRoleID: reader.id))

        let project: IdentityProject
        if let p = try await store.projects().first(where: { $0.name == "admin" && $0.domainID == Self.defaultDomainID }) {
            project = p
        } else {
            project = IdentityProject(
                id: TokenCodec.newID(), name: "admin", domainID: Self.defaultDomainID, description: "Bootstrap project")
            try await store.insertProject(project)
        }
        var result = BootstrapResult(createdAdmin: false, passwordSet: false, password: nil, generated: false)
        var user: IdentityUser
        if let u = try await store.user(name: "admin", domainID: Self.defaultDomainID) {
            user = u
            if let adminPassword, !adminPassword.isEmpty {
                result.password = adminPassword
                if await !PasswordHasher.verify(adminPassword, against: u.passwordHash) {
                    user.passwordHash = try await PasswordHasher.hash(adminPassword, rounds: options.passwordRounds)
                    try await store.updateUser(user)
                    try await store.revokeTokens(userID: user.id)
                    cache.removeAll()
                    result.passwordSet = true
                }
            }
        } else {
            let password: String
            if let adminPassword, !adminPassword.isEmpty {
                password = adminPassword
            } else {
                password = TokenCodec.newPassword()
                result.generated = true
            }
            user = IdentityUser(
                id: TokenCodec.newID(), name: "admin", domainID: Self.defaultDomainID, defaultProjectID: project.id,
                passwordHash: try await PasswordHasher.hash(password, rounds: options.passwordRounds))
            try await store.insertUser(user)
            result.createdAdmin = true
            result.passwordSet = true
            result.password = password
        }
        _ = try await store.grant(IdentityRoleAssignment(userID: user.id, projectID: project.id, roleID: admin.id))
        return result
    }

    // MARK: roles

    /// Each role with the roles it implies, transitively.
    func effectiveRoles(of direct: Set<String>) async throws -> [IdentityRole] {
        let all = try await store.roles()
        let rules = try await store.impliedRoles()
        var ids = direct
        var frontier = Array(direct)
        while let r = frontier.popLast() {
            for rule in rules where rule.priorRoleID == r && !ids.contains(rule.impliedRoleID) {
                ids.insert(rule.impliedRoleID)
                frontier.append(rule.impliedRoleID)
            }
        }
        return all.filter { ids.contains($0.id) }.sorted { $0.name < $1.name }
    }

    func directRoleIDs(user: String, project: String) async throws -> Set<String> {
        Set(try await store.assignments(userID: user, projectID: project, roleID: nil).map(\.roleID))
    }

    // MARK: authentication

    public enum Scope: Sendable {
        case unscoped
        case defaultProject
        case projectID(String)
        case projectName(String, domainID: String?, domainName: String?)
    }

    static func unauthorized(_ m: String = "The request you have made requires authentication.") -> GlimpseError {
        .unauthorized(m)
    }

    public func domain(named name: String) async throws -> IdentityDomain? {
        try await store.domains().first { $0.name == name }
    }

    /// Checks a password; 401 on any failure, with the same work done whether or not the user exists.
    public func authenticatePassword(
        userID: String?, userName: String?, domainID: String?, domainName: String?, password: String
    ) async throws -> IdentityUser {
        var user: IdentityUser?
        if let userID {
            user = try await store.user(id: userID)
        } else if let userName {
            var did = domainID
            if did == nil, let domainName { did = try await domain(named: domainName)?.id }
            if let did { user = try await store.user(name: userName, domainID: did) }
        }
        guard let user else {
            _ = await PasswordHasher.burn(password)
            throw Self.unauthorized()
        }
        guard await PasswordHasher.verify(password, against: user.passwordHash) else {
            logger.notice("authentication failed for user \(user.id)")
            throw Self.unauthorized()
        }
        guard user.enabled, try await store.domain(id: user.domainID)?.enabled ?? false else {
            throw Self.unauthorized()
        }
        return user
    }

    /// Issues a token for `user`. `expiresAt` is kept when rescoping an existing token.
    public func issueToken(
        user: IdentityUser, scope: Scope, methods: [String], expiresAt: Timestamp? = nil, parentAuditID: String? = nil
    ) async throws -> (token: String, context: AuthContext) {
        var project: IdentityProject?
        switch scope {
        case .unscoped:
            project = nil
        case .defaultProject:
            if let d = user.defaultProjectID, let p = try await store.project(id: d), p.enabled,
                try await !directRoleIDs(user: user.id, project: p.id).isEmpty
            {
                project = p
            }
        case .projectID(let id):
            guard let p = try await store.project(id: id) else { throw Self.unauthorized("Could not find project: \(id).") }
            project = p
        case .projectName(let name, let domainID, let domainName):
            var did = domainID
            if did == nil, let domainName { did = try await domain(named: domainName)?.id }
            guard let did, let p = try await store.projects().first(where: { $0.name == name && $0.domainID == did })
            else { throw Self.unauthorized("Could not find project: \(name).") }
            project = p
        }
        if let p = project {
            guard p.enabled else { throw Self.unauthorized("Project \(p.id) is disabled.") }
            guard try await !directRoleIDs(user: user.id, project: p.id).isEmpty else {
                throw Self.unauthorized("User \(user.id) has no access to project \(p.id).")
            }
        }
        let now = Self.now()
        let wholeNow = Timestamp(microseconds: now.microseconds / 1_000_000 * 1_000_000)
        let lifetime = Int64(options.tokenLifetime) * 1_000_000
        let token = TokenCodec.newToken()
        let record = IdentityTokenRecord(
            hash: TokenCodec.hash(token), userID: user.id, projectID: project?.id, methods: methods, issuedAt: wholeNow,
            expiresAt: expiresAt ?? Timestamp(microseconds: wholeNow.microseconds + lifetime),
            auditID: TokenCodec.newAuditID(), parentAuditID: parentAuditID)
        try await store.insertToken(record)
        if issued.add(1, ordering: .relaxed).newValue % 1000 == 0 {
            try? await store.purgeTokens(expiredBefore: now)
        }
        guard let context = try await resolve(record) else { throw Self.unauthorized() }
        cache.put(record.hash, context)
        return (token, context)
    }

    /// The context of a valid token (known, not revoked, not expired, user and project still there), or nil.
    /// Served from memory for `cacheTTL`; the store is asked otherwise.
    public func validate(_ token: String) async throws -> AuthContext? {
        guard !token.isEmpty, token.utf8.count <= 512 else { return nil }
        let hash = TokenCodec.hash(token)
        let now = Self.now()
        if let hit = cache.get(hash) {
            return hit.token.expiresAt > now ? hit : nil
        }
        guard let record = try await store.token(hash: hash), !record.revoked, record.expiresAt > now,
            let context = try await resolve(record)
        else { return nil }
        cache.put(hash, context)
        return context
    }

    func resolve(_ record: IdentityTokenRecord) async throws -> AuthContext? {
        guard let user = try await store.user(id: record.userID), user.enabled,
            let userDomain = try await store.domain(id: user.domainID), userDomain.enabled
        else { return nil }
        var context = AuthContext(
            token: record, user: user, userDomain: userDomain, project: nil, projectDomain: nil, roles: [])
        if let pid = record.projectID {
            guard let project = try await store.project(id: pid), project.enabled,
                let projectDomain = try await store.domain(id: project.domainID)
            else { return nil }
            let direct = try await directRoleIDs(user: user.id, project: pid)
            guard !direct.isEmpty else { return nil }
            context.project = project
            context.projectDomain = projectDomain
            context.roles = try await effectiveRoles(of: direct)
        }
        return context
    }

    /// Revokes a token at once on this node. Returns false when it was not a valid token.
    public func revoke(_ token: String) async throws -> Bool {
        let hash = TokenCodec.hash(token)
        cache.remove(hash)
        return try await store.revokeToken(hash: hash)
    }

    /// Forget every cached validation (after changes to users, projects, roles or assignments).
    public func invalidateCache() { cache.removeAll() }
}

/// Validated tokens by SHA-256, each trusted for a short time. Bounded; a full cache drops expired entries,
/// then everything.
final class TokenCache: Sendable {
    struct Entry {
        var context: AuthContext
        var until: ContinuousClock.Instant
    }

    let ttl: Duration
    let maxEntries: Int
    let entries = Mutex<[String: Entry]>([:])

    init(ttl: Duration, maxEntries: Int = 50_000) {
        self.ttl = ttl
        self.maxEntries = maxEntries
    }

    func get(_ hash: String) -> AuthContext? {
        guard ttl > .zero else { return nil }
        let now = ContinuousClock.now
        return entries.withLock { e in
            guard let hit = e[hash] else { return nil }
            if hit.until <= now {
                e[hash] = nil
                return nil
            }
            return hit.context
        }
    }

    func put(_ hash: String, _ context: AuthContext) {
        guard ttl > .zero else { return }
        let now = ContinuousClock.now
        entries.withLock { e in
            if e.count >= maxEntries {
                e = e.filter { $0.value.until > now }
                if e.count >= maxEntries { e.removeAll(keepingCapacity: true) }
            }
            e[hash] = Entry(context: context, until: now + ttl)
        }
    }

    func remove(_ hash: String) { _ = entries.withLock { $0.removeValue(forKey: hash) } }
    func removeAll() { entries.withLock { $0.removeAll() } }
}
