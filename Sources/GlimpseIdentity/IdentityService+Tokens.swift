import GlimpseCore
import GlimpseStorage

// Authentication, token issue, validation and revocation.
extension IdentityService {
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
        // Domain-specific roles only stand for the roles they imply; they never reach tokens themselves.
        return all.filter { ids.contains($0.id) && $0.domainID == nil }.sorted { $0.name < $1.name }
    }

    func directRoleIDs(user: String, project: String) async throws -> Set<String> {
        Set(try await store.assignments(userID: user, projectID: project, roleID: nil).map(\.roleID))
    }

    func directRoleIDs(user: String, target: IdentityTargetAssignment.Target) async throws -> Set<String> {
        Set(try await store.targetAssignments(userID: user, target: target, roleID: nil).map(\.roleID))
    }

    /// The roles the user holds on the project directly or through its groups (what a token carries).
    func heldRoleIDs(user: String, project: String) async throws -> Set<String> {
        try await directRoleIDs(user: user, project: project)
            .union(groupRoleIDs(user: user, target: .project(project)))
    }

    /// The roles the user holds on the domain or the system directly or through its groups.
    func heldRoleIDs(user: String, target: IdentityTargetAssignment.Target) async throws -> Set<String> {
        let direct = try await directRoleIDs(user: user, target: target)
        switch target {
        case .domain(let did): return direct.union(try await groupRoleIDs(user: user, target: .domain(did)))
        case .system: return direct.union(try await groupRoleIDs(user: user, target: .system))
        }
    }

    // MARK: authentication

    public enum Scope: Sendable {
        case unscoped
        case defaultProject
        case projectID(String)
        case projectName(String, domainID: String?, domainName: String?)
        /// `"system": {"all": true}`
        case system
        case domainID(String)
        case domainName(String)
    }

    static func unauthorized(_ m: String = "The request you have made requires authentication.") -> GlimpseError {
        .unauthorized(m)
    }

    public func domain(named name: String) async throws -> IdentityDomain? {
        try await store.domains().first { $0.name == name }
    }

    /// The admin `bootstrap` creates, whom the brute-force limits spare on loopback.
    static func isBootstrapAdmin(_ user: IdentityUser) -> Bool { user.name == "admin" && user.domainID == defaultDomainID }

    /// Checks a password; 401 on any failure, with the same work done whether or not the user exists. A locked
    /// account is refused before its password is checked; failures count toward the lockout and the address limit.
    public func authenticatePassword(
        userID: String?, userName: String?, domainID: String?, domainName: String?, password: String,
        from address: String? = nil
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
            bruteForce.recordAddressFailure(address)
            throw Self.unauthorized()
        }
        let spared = Self.isBootstrapAdmin(user)
        do {
            try bruteForce.checkUser(user.id, isBootstrapAdmin: spared, address: address)
        } catch {
            // Attempts on a locked account are failures of their address too.
            bruteForce.recordAddressFailure(address)
            throw error
        }
        guard await PasswordHasher.verify(password, against: user.passwordHash) else {
            logger.notice("authentication failed for user \(user.id)")
            bruteForce.recordUserFailure(user.id, isBootstrapAdmin: spared, address: address)
            bruteForce.recordAddressFailure(address)
            throw Self.unauthorized()
        }
        bruteForce.recordUserSuccess(user.id)
        guard user.enabled, try await store.domain(id: user.domainID)?.enabled ?? false else {
            throw Self.unauthorized()
        }
        return user
    }

    /// Issues a token for `user`. `expiresAt` is kept when rescoping an existing token.
    public func issueToken(
        user: IdentityUser, scope: Scope, methods: [String], expiresAt: Timestamp? = nil, parentAuditID: String? = nil,
        applicationCredential: IdentityApplicationCredential? = nil
    ) async throws -> (token: String, context: AuthContext) {
        var project: IdentityProject?
        var system = false
        var domainID: String?
        switch scope {
        case .unscoped:
            project = nil
        case .defaultProject:
            if let d = user.defaultProjectID, let p = try await store.project(id: d), p.enabled,
                try await !heldRoleIDs(user: user.id, project: p.id).isEmpty
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
        case .system:
            guard try await !heldRoleIDs(user: user.id, target: .system).isEmpty else {
                throw Self.unauthorized("User \(user.id) has no access to the system.")
            }
            system = true
        case .domainID(let id):
            domainID = id
        case .domainName(let name):
            guard let d = try await domain(named: name) else { throw Self.unauthorized("Could not find domain: \(name).") }
            domainID = d.id
        }
        if let p = project {
            guard p.enabled else { throw Self.unauthorized("Project \(p.id) is disabled.") }
            guard try await !heldRoleIDs(user: user.id, project: p.id).isEmpty else {
                throw Self.unauthorized("User \(user.id) has no access to project \(p.id).")
            }
        }
        if let domainID {
            guard let d = try await store.domain(id: domainID), d.enabled else {
                throw Self.unauthorized("Could not find domain: \(domainID).")
            }
            guard try await !heldRoleIDs(user: user.id, target: .domain(domainID)).isEmpty else {
                throw Self.unauthorized("User \(user.id) has no access to domain \(domainID).")
            }
        }
        let now = Self.now()
        let wholeNow = Timestamp(microseconds: now.microseconds / 1_000_000 * 1_000_000)
        let lifetime = Int64(options.tokenLifetime) * 1_000_000
        var expiry = expiresAt ?? Timestamp(microseconds: wholeNow.microseconds + lifetime)
        // A token never outlives the application credential it came from.
        if let credentialExpiry = applicationCredential?.expiresAt, credentialExpiry < expiry { expiry = credentialExpiry }
        let token = TokenCodec.newToken()
        let record = IdentityTokenRecord(
            hash: TokenCodec.hash(token), userID: user.id, projectID: project?.id, methods: methods, issuedAt: wholeNow,
            expiresAt: expiry, auditID: TokenCodec.newAuditID(), parentAuditID: parentAuditID, system: system,
            domainID: domainID, applicationCredentialID: applicationCredential?.id)
        try await store.insertToken(record)
        if issued.add(1, ordering: .relaxed).newValue % 1000 == 0 {
            try? await store.purgeTokens(expiredBefore: now)
        }
        let version = try await store.changeVersion()
        guard let context = try await resolve(record) else { throw Self.unauthorized() }
        cache.put(record.hash, context, version: version)
        return (token, context)
    }

    /// The context of a valid token (known, not revoked, not expired, user and scope still there), or nil.
    /// Served from memory for `cacheTTL` (and, with a shared store, while nothing changed); the store is asked otherwise.
    public func validate(_ token: String) async throws -> AuthContext? {
        guard !token.isEmpty, token.utf8.count <= 512 else { return nil }
        let hash = TokenCodec.hash(token)
        let now = Self.now()
        // Read before the records: a change committed after this read makes the entry stale at the next request.
        let version = try await store.changeVersion()
        if let hit = cache.get(hash, version: version) {
            return hit.token.expiresAt > now ? hit : nil
        }
        guard let record = try await store.token(hash: hash), !record.revoked, record.expiresAt > now,
            let context = try await resolve(record)
        else { return nil }
        cache.put(hash, context, version: version)
        return context
    }

    /// The context of a stored token, or nil when anything it depends on is gone: the user, its scope, its roles
    /// there, or its application credential.
    func resolve(_ record: IdentityTokenRecord) async throws -> AuthContext? {
        guard let user = try await store.user(id: record.userID), user.enabled,
            let userDomain = try await store.domain(id: user.domainID), userDomain.enabled
        else { return nil }
        var context = AuthContext(
            token: record, user: user, userDomain: userDomain, project: nil, projectDomain: nil, domain: nil, roles: [],
            applicationCredential: nil)
        var direct: Set<String> = []
        if let pid = record.projectID {
            guard let project = try await store.project(id: pid), project.enabled,
                let projectDomain = try await store.domain(id: project.domainID), projectDomain.enabled
            else { return nil }
            direct = try await heldRoleIDs(user: user.id, project: pid)
            context.project = project
            context.projectDomain = projectDomain
        } else if record.system {
            direct = try await heldRoleIDs(user: user.id, target: .system)
        } else if let did = record.domainID {
            guard let domain = try await store.domain(id: did), domain.enabled else { return nil }
            direct = try await heldRoleIDs(user: user.id, target: .domain(did))
            context.domain = domain
        } else {
            return record.applicationCredentialID == nil ? context : nil
        }
        guard !direct.isEmpty else { return nil }
        var roles = try await effectiveRoles(of: direct)
        if let credentialID = record.applicationCredentialID {
            // The credential's roles, as long as the owner still has every one of them on the scope.
            guard let credential = try await store.applicationCredential(id: credentialID), credential.userID == user.id,
                credential.projectID == record.projectID, credential.system == record.system,
                credential.expiresAt.map({ $0 > Self.now() }) ?? true
            else { return nil }
            let held = Set(roles.map(\.id))
            guard credential.roleIDs.allSatisfy({ held.contains($0) }) else { return nil }
            roles = try await effectiveRoles(of: Set(credential.roleIDs))
            context.applicationCredential = credential
        }
        context.roles = roles
        return context
    }

    /// Revokes a token at once on this node. Returns false when it was not a valid token.
    public func revoke(_ token: String) async throws -> Bool {
        let hash = TokenCodec.hash(token)
        cache.remove(hash)
        return try await store.revokeToken(hash: hash)
    }

    /// Forget every cached validation (after changes made outside this service).
    public func invalidateCache() { changed() }

    /// `POST /v3/auth/tokens`: checks the credentials and issues a token with the requested scope.
    /// `address` is the client's, for the limit on failed authentications per source address.
    public func authenticate(
        _ request: AuthRequest, from address: String? = nil
    ) async throws -> (token: String, context: AuthContext) {
        switch request.method {
        case .password, .applicationCredential: try bruteForce.checkAddress(address)
        case .token: break
        }
        switch request.method {
        case .password(let userID, let userName, let domainID, let domainName, let password):
            let user = try await authenticatePassword(
                userID: userID, userName: userName, domainID: domainID, domainName: domainName, password: password,
                from: address)
            return try await issueToken(user: user, scope: request.scope ?? .defaultProject, methods: ["password"])
        case .token(let id):
            guard let prior = try await validate(id) else { throw Self.unauthorized() }
            // A token of an application credential keeps its credential's limits: it is not rescoped.
            guard prior.applicationCredential == nil else {
                throw GlimpseError.forbidden("A token created from an application credential cannot be rescoped.")
            }
            var methods = prior.token.methods
            if !methods.contains("token") { methods.insert("token", at: 0) }
            // A rescoped token keeps the expiry of the token it came from and records its audit id.
            return try await issueToken(
                user: prior.user, scope: request.scope ?? .unscoped, methods: methods, expiresAt: prior.token.expiresAt,
                parentAuditID: prior.token.auditID)
        case .applicationCredential(let method):
            guard request.scope == nil else {
                throw GlimpseError.unauthorized("Application credentials cannot request a scope.")
            }
            let user: IdentityUser, credential: IdentityApplicationCredential
            do {
                (user, credential) = try await authenticateApplicationCredential(method)
            } catch let e as GlimpseError where e.kind == .unauthorized {
                bruteForce.recordAddressFailure(address)
                throw e
            }
            let scope: Scope = credential.system ? .system : credential.projectID.map { .projectID($0) } ?? .unscoped
            return try await issueToken(
                user: user, scope: scope, methods: ["application_credential"], applicationCredential: credential)
        }
    }

    /// The subject token of validate/check/revoke, with Keystone's `service_admin_or_token_subject` rule applied.
    public func subject(_ subjectToken: String?, by auth: AuthContext, action: String) async throws -> AuthContext {
        guard let subjectToken else {
            throw GlimpseError.notFound("Could not find token: X-Subject-Token header is missing.")
        }
        guard let target = try await validate(subjectToken) else { throw GlimpseError.notFound("Could not recognize token.") }
        try IdentityPolicy.require(
            IdentityPolicy.isServiceOrAdmin(auth) || auth.user.id == target.user.id, action)
        return target
    }
}
