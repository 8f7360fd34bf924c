import GlimpseCore
import GlimpseStorage

// Credentials (`/v3/credentials`): admins manage everyone's, a user its own. An EC2 credential's id is the
// SHA-256 of its access key, as in Keystone, so the key finds it (and the same key cannot be stored twice).
extension IdentityService {
    func readableCredential(_ id: String, by auth: AuthContext, _ action: String) async throws -> IdentityCredential {
        guard let c = try await store.credential(id: id) else { throw Self.notFound("credential", id) }
        try IdentityPolicy.require(IdentityPolicy.isAdmin(auth) || c.userID == auth.user.id, action)
        return c
    }

    /// Checks the fields of a credential; `ec2` needs a project and a blob that is a JSON object with `access`.
    func validateCredential(_ c: IdentityCredential) async throws {
        guard try await store.user(id: c.userID) != nil else { throw Self.notFound("user", c.userID) }
        if let pid = c.projectID, try await store.project(id: pid) == nil { throw Self.notFound("project", pid) }
        if c.type == "ec2" {
            guard c.projectID != nil else {
                throw GlimpseError.badRequest("Invalid input: project_id is required for an ec2 credential.")
            }
            guard IdentityInput.string(IdentityJSON.extras(c.blob), "access") != nil else {
                throw GlimpseError.badRequest("Invalid input: the blob of an ec2 credential must be a JSON object with 'access'.")
            }
        }
    }

    static func credentialFields(_ body: [String: JSONValue], into c: inout IdentityCredential) throws {
        for key in ["blob", "type", "user_id"] where body[key] != nil && IdentityInput.string(body, key) == nil {
            throw GlimpseError.badRequest("Invalid input for field '\(key)': it must be a string.")
        }
        if let b = IdentityInput.string(body, "blob") { c.blob = b }
        if let t = IdentityInput.string(body, "type") { c.type = t }
        if let u = IdentityInput.string(body, "user_id") { c.userID = u }
        if body["project_id"] != nil { c.projectID = IdentityInput.string(body, "project_id") }
    }

    public func credentials(by auth: AuthContext, userID: String?, type: String?) async throws -> [IdentityCredential] {
        var list = try await store.credentials()
        if !IdentityPolicy.isAdmin(auth) { list = list.filter { $0.userID == auth.user.id } }
        if let userID { list = list.filter { $0.userID == userID } }
        if let type { list = list.filter { $0.type == type } }
        return list
    }

    public func credential(id: String, by auth: AuthContext) async throws -> IdentityCredential {
        try await readableCredential(id, by: auth, "get_credential")
    }

    public func createCredential(_ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityCredential {
        guard IdentityInput.string(body, "blob") != nil, IdentityInput.string(body, "type") != nil,
            IdentityInput.string(body, "user_id") != nil
        else { throw GlimpseError.badRequest("Invalid input: 'blob', 'type' and 'user_id' are required strings.") }
        var c = IdentityCredential(id: "", userID: "", projectID: nil, type: "", blob: "")
        try Self.credentialFields(body, into: &c)
        try IdentityPolicy.require(IdentityPolicy.isAdmin(auth) || c.userID == auth.user.id, "create_credential")
        try await validateCredential(c)
        if c.type == "ec2", let access = IdentityInput.string(IdentityJSON.extras(c.blob), "access") {
            c.id = TokenCodec.hash(access)
        } else {
            c.id = TokenCodec.newID()
        }
        do {
            try await store.insertCredential(c)
        } catch let e as GlimpseError where e.kind == .conflict {
            throw GlimpseError.conflict("Conflict occurred attempting to store credential - Duplicate entry.")
        }
        return c
    }

    /// The id stays what it was even when an ec2 blob gets a new access key: Keystone derives it on creation only.
    public func updateCredential(id: String, _ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityCredential {
        var c = try await readableCredential(id, by: auth, "update_credential")
        try Self.credentialFields(body, into: &c)
        try IdentityPolicy.require(IdentityPolicy.isAdmin(auth) || c.userID == auth.user.id, "update_credential")
        try await validateCredential(c)
        try await store.updateCredential(c)
        return c
    }

    public func deleteCredential(id: String, by auth: AuthContext) async throws {
        _ = try await readableCredential(id, by: auth, "delete_credential")
        guard try await store.deleteCredential(id: id) else { throw Self.notFound("credential", id) }
    }
}
