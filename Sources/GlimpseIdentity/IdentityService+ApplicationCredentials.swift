import GlimpseCore
import GlimpseStorage

// Application credentials: created by their owner from a scoped token, with a subset of that token's roles; the
// secret is hashed like a password and shown once.
extension IdentityService {
    static func restricted(_ action: String) -> GlimpseError {
        .forbidden("You are not authorized to perform the requested action: identity:\(action). A restricted application credential cannot manage application credentials.")
    }

    /// Owner only, and not with a token of a restricted application credential.
    func requireCredentialOwner(_ userID: String, _ auth: AuthContext, _ action: String) throws {
        try IdentityPolicy.require(auth.user.id == userID, action)
        if let cred = auth.applicationCredential, !cred.unrestricted { throw Self.restricted(action) }
    }

    public func createApplicationCredential(
        userID: String, _ body: [String: JSONValue], by auth: AuthContext
    ) async throws -> (credential: IdentityApplicationCredential, secret: String) {
        try requireCredentialOwner(userID, auth, "create_application_credential")
        guard auth.project != nil || auth.system else {
            throw GlimpseError.forbidden("Application credentials are created with a project-scoped or system-scoped token.")
        }
        guard let name = IdentityInput.string(body, "name"), !name.isEmpty, name.count <= 255 else {
            throw GlimpseError.badRequest("Invalid input for field 'name': 'name' is a required property.")
        }
        var secret = TokenCodec.newToken()
        switch body["secret"] {
        case nil, .null?: break
        case .string(let s)? where !s.isEmpty && s.utf8.count <= 4096: secret = s
        default: throw GlimpseError.badRequest("Invalid input for field 'secret': expected a non-empty string.")
        }
        var expiresAt: Timestamp?
        switch body["expires_at"] {
        case nil, .null?: break
        case .string(let s)?:
            guard let t = Timestamp(iso8601: s) else {
                throw GlimpseError.badRequest("Invalid input for field 'expires_at': '\(s)' is not an ISO 8601 date-time.")
            }
            guard t > Self.now() else {
                throw GlimpseError.badRequest("Invalid input for field 'expires_at': the expiration time is in the past.")
            }
            expiresAt = t
        default: throw GlimpseError.badRequest("Invalid input for field 'expires_at': expected a string.")
        }
        // Access rules narrow what a credential may call; accepting them without enforcing them would hand out a
        // broader credential than the user asked for, so they are refused until they are enforced.
        switch body["access_rules"] {
        case nil, .null?: break
        case .array(let rules)? where rules.isEmpty: break
        default:
            throw GlimpseError.badRequest("Invalid input for field 'access_rules': access rules are not supported by this cloud.")
        }
        let roleIDs = try requestedRoles(body["roles"], of: auth)
        let credential = IdentityApplicationCredential(
            id: TokenCodec.newID(), userID: userID, name: name, description: IdentityInput.string(body, "description") ?? "",
            projectID: auth.project?.id, system: auth.system,
            secretHash: try await PasswordHasher.hash(secret, rounds: options.passwordRounds), expiresAt: expiresAt,
            unrestricted: try IdentityInput.bool(body, "unrestricted") ?? false, roleIDs: roleIDs)
        do {
            try await store.insertApplicationCredential(credential)
        } catch let e as GlimpseError where e.kind == .conflict {
            throw GlimpseError.conflict("Conflict occurred attempting to store application_credential - Duplicate entry found with name \(name).")
        }
        return (credential, secret)
    }

    /// The roles asked for (`[{"id"}|{"name"}]`), each one the creating token has; all of them by default.
    func requestedRoles(_ value: JSONValue?, of auth: AuthContext) throws -> [String] {
        let held = auth.roles
        let items: [JSONValue]
        switch value {
        case nil, .null?: return held.map(\.id)
        case .array(let a)?:
            if a.isEmpty { return held.map(\.id) }
            items = a
        default: throw GlimpseError.badRequest("Invalid input for field 'roles': expected a list of roles.")
        }
        var ids: [String] = []
        for item in items {
            guard case .object(let o) = item else {
                throw GlimpseError.badRequest("Invalid input for field 'roles': each role is an object with an id or a name.")
            }
            let id = IdentityInput.string(o, "id")
            let name = IdentityInput.string(o, "name")
            guard id != nil || name != nil else {
                throw GlimpseError.badRequest("Invalid input for field 'roles': each role is an object with an id or a name.")
            }
            guard let match = held.first(where: { (id == nil || id == $0.id) && (name == nil || name == $0.name) }) else {
                throw GlimpseError.forbidden("Role \(id ?? name ?? "") cannot be given to an application credential: the token does not have it.")
            }
            if !ids.contains(match.id) { ids.append(match.id) }
        }
        return ids
    }

    public func applicationCredentials(
        userID: String, name: String?, by auth: AuthContext
    ) async throws -> [IdentityApplicationCredential] {
        try IdentityPolicy.require(auth.user.id == userID || IdentityPolicy.isReader(auth), "list_application_credentials")
        let all = try await store.applicationCredentials(userID: userID)
        guard let name else { return all }
        return all.filter { $0.name == name }
    }

    public func applicationCredential(
        userID: String, id: String, by auth: AuthContext
    ) async throws -> IdentityApplicationCredential {
        try IdentityPolicy.require(auth.user.id == userID || IdentityPolicy.isReader(auth), "get_application_credential")
        guard let c = try await store.applicationCredential(id: id), c.userID == userID else {
            throw Self.notFound("application credential", id)
        }
        return c
    }

    public func deleteApplicationCredential(userID: String, id: String, by auth: AuthContext) async throws {
        if !(IdentityPolicy.isAdmin(auth) && auth.applicationCredential == nil) {
            try requireCredentialOwner(userID, auth, "delete_application_credential")
        }
        guard let c = try await store.applicationCredential(id: id), c.userID == userID else {
            throw Self.notFound("application credential", id)
        }
        _ = try await store.deleteApplicationCredential(id: c.id)
        changed()
    }

    /// The role objects of a credential, for its JSON.
    public func roles(of credential: IdentityApplicationCredential) async throws -> [IdentityRole] {
        let ids = Set(credential.roleIDs)
        return try await store.roles().filter { ids.contains($0.id) }
    }

    /// `application_credential` authentication: by id, or by name and its owner; the secret, the owner and the
    /// expiry are checked. Every failure is a 401.
    func authenticateApplicationCredential(
        _ method: AuthRequest.ApplicationCredentialMethod
    ) async throws -> (IdentityUser, IdentityApplicationCredential) {
        var credential: IdentityApplicationCredential?
        if let id = method.id {
            credential = try await store.applicationCredential(id: id)
        } else if let name = method.name {
            var owner: IdentityUser?
            if let uid = method.userID {
                owner = try await store.user(id: uid)
            } else if let uname = method.userName {
                var did = method.domainID
                if did == nil, let dn = method.domainName { did = try await domain(named: dn)?.id }
                if let did { owner = try await store.user(name: uname, domainID: did) }
            }
            if let owner { credential = try await store.applicationCredential(userID: owner.id, name: name) }
        }
        guard let credential else {
            _ = await PasswordHasher.burn(method.secret)
            throw Self.unauthorized()
        }
        guard await PasswordHasher.verify(method.secret, against: credential.secretHash) else {
            logger.notice("application credential authentication failed for \(credential.id)")
            throw Self.unauthorized()
        }
        if let expires = credential.expiresAt, expires <= Self.now() {
            throw Self.unauthorized("The application credential \(credential.id) has expired.")
        }
        guard let user = try await store.user(id: credential.userID), user.enabled,
            try await store.domain(id: user.domainID)?.enabled ?? false
        else { throw Self.unauthorized() }
        return (user, credential)
    }
}
