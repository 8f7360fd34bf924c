import GlimpseCore
import GlimpseStorage

// Users: creation with hashed passwords, updates that revoke tokens when credentials change, self-service password
// changes.
extension IdentityService {
    static let userFields: Set<String> = [
        "id", "name", "domain_id", "enabled", "default_project_id", "password", "password_expires_at", "options", "links",
    ]

    public func users(by auth: AuthContext, name: String?, domainID: String?, enabled: Bool?) async throws -> [IdentityUser] {
        let scope = try IdentityPolicy.listingDomain(auth, filter: domainID, "list_users")
        var users = try await store.users()
        if let scope { users = users.filter { $0.domainID == scope } }
        if let name { users = users.filter { $0.name == name } }
        if let domainID { users = users.filter { $0.domainID == domainID } }
        if let enabled { users = users.filter { $0.enabled == enabled } }
        return users
    }

    public func user(id: String, by auth: AuthContext) async throws -> IdentityUser {
        try IdentityPolicy.require(IdentityPolicy.isReader(auth) || auth.user.id == id || auth.domain != nil, "get_user")
        guard let u = try await store.user(id: id) else { throw Self.notFound("user", id) }
        try IdentityPolicy.require(IdentityPolicy.readsDomain(auth, u.domainID) || auth.user.id == id, "get_user")
        return u
    }

    public func createUser(_ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityUser {
        try IdentityPolicy.requireManager(auth, "create_user")
        guard let name = IdentityInput.string(body, "name"), !name.isEmpty, name.count <= 255 else {
            throw GlimpseError.badRequest("Invalid input for field 'name': 'name' is a required property.")
        }
        let domainID = IdentityInput.string(body, "domain_id") ?? auth.domain?.id ?? Self.defaultDomainID
        try IdentityPolicy.require(IdentityPolicy.managesDomain(auth, domainID), "create_user")
        guard try await store.domain(id: domainID) != nil else { throw Self.notFound("domain", domainID) }
        var hash: String?
        if let pw = IdentityInput.string(body, "password") {
            hash = try await PasswordHasher.hash(pw, rounds: options.passwordRounds)
        }
        let extra = body.filter { !Self.userFields.contains($0.key) }
        let u = IdentityUser(
            id: TokenCodec.newID(), name: name, domainID: domainID, enabled: try IdentityInput.bool(body, "enabled") ?? true,
            defaultProjectID: IdentityInput.string(body, "default_project_id"), passwordHash: hash,
            extraJSON: IdentityJSON.encode(extra))
        do {
            try await store.insertUser(u)
        } catch let e as GlimpseError where e.kind == .conflict {
            throw GlimpseError.conflict("Conflict occurred attempting to store user - Duplicate entry found with name \(name) at domain ID \(domainID).")
        }
        return u
    }

    public func updateUser(id: String, _ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityUser {
        try IdentityPolicy.requireManager(auth, "update_user")
        guard var u = try await store.user(id: id) else { throw Self.notFound("user", id) }
        try IdentityPolicy.require(IdentityPolicy.managesDomain(auth, u.domainID), "update_user")
        // Disabling a user or setting its password ends its tokens, as Keystone does.
        var revoke = false
        if let n = IdentityInput.string(body, "name") { u.name = n }
        if let e = try IdentityInput.bool(body, "enabled") {
            if !e { revoke = true }
            u.enabled = e
            // Enabling a user is how Keystone's administrators lift a lockout.
            if e { bruteForce.recordUserSuccess(u.id) }
        }
        if body["default_project_id"] != nil { u.defaultProjectID = IdentityInput.string(body, "default_project_id") }
        if let pw = IdentityInput.string(body, "password") {
            u.passwordHash = try await PasswordHasher.hash(pw, rounds: options.passwordRounds)
            revoke = true
        }
        var extra = IdentityJSON.extras(u.extraJSON)
        for (k, v) in body where !Self.userFields.contains(k) { extra[k] = v }
        u.extraJSON = IdentityJSON.encode(extra)
        try await store.updateUser(u)
        if revoke { try await store.revokeTokens(userID: u.id) }
        changed()
        return u
    }

    public func deleteUser(id: String, by auth: AuthContext) async throws {
        try IdentityPolicy.requireManager(auth, "delete_user")
        guard let u = try await store.user(id: id) else { throw Self.notFound("user", id) }
        try IdentityPolicy.require(IdentityPolicy.managesDomain(auth, u.domainID), "delete_user")
        guard try await store.deleteUser(id: id) else { throw Self.notFound("user", id) }
        changed()
    }

    /// `POST /v3/users/{id}/password`: the original password is the credential; every token of the user ends.
    public func changePassword(userID: String, original: String, new: String) async throws {
        guard !new.isEmpty else { throw GlimpseError.badRequest("Invalid input: 'password' must not be empty.") }
        guard var u = try await store.user(id: userID) else { throw Self.notFound("user", userID) }
        guard await PasswordHasher.verify(original, against: u.passwordHash) else { throw Self.unauthorized() }
        u.passwordHash = try await PasswordHasher.hash(new, rounds: options.passwordRounds)
        try await store.updateUser(u)
        try await store.revokeTokens(userID: u.id)
        changed()
    }
}
