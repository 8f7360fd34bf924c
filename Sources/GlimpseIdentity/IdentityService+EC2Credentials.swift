import GlimpseCore
import GlimpseStorage

// EC2 credentials (`/v3/users/{id}/credentials/OS-EC2`): an access/secret pair for a user on a project, kept as
// an `ec2` credential of `/v3/credentials` whose id is the SHA-256 of the access key, as in Keystone.
extension IdentityService {
    /// One EC2 credential as the OS-EC2 API shows it.
    public struct EC2Credential: Sendable {
        public var userID: String
        public var projectID: String?
        public var access: String
        public var secret: String
    }

    static func ec2(_ c: IdentityCredential) -> EC2Credential? {
        let blob = IdentityJSON.extras(c.blob)
        guard c.type == "ec2", let access = IdentityInput.string(blob, "access") else { return nil }
        return EC2Credential(
            userID: c.userID, projectID: c.projectID, access: access, secret: IdentityInput.string(blob, "secret") ?? "")
    }

    /// The user itself or an admin; the user must exist.
    func authorizeEC2(userID: String, by auth: AuthContext, _ action: String) async throws {
        try IdentityPolicy.require(IdentityPolicy.isAdmin(auth) || auth.user.id == userID, action)
        guard try await store.user(id: userID) != nil else { throw Self.notFound("user", userID) }
    }

    public func createEC2Credential(userID: String, _ body: [String: JSONValue], by auth: AuthContext) async throws -> EC2Credential {
        try await authorizeEC2(userID: userID, by: auth, "ec2_create_credential")
        guard let pid = IdentityInput.string(body, "tenant_id") ?? IdentityInput.string(body, "project_id") else {
            throw GlimpseError.badRequest("Invalid input: 'tenant_id' is required.")
        }
        guard try await store.project(id: pid) != nil else { throw Self.notFound("project", pid) }
        let access = TokenCodec.newID()
        let secret = TokenCodec.newID()
        let blob = IdentityJSON.encode(["access": .string(access), "secret": .string(secret), "trust_id": .null])
        try await store.insertCredential(
            IdentityCredential(id: TokenCodec.hash(access), userID: userID, projectID: pid, type: "ec2", blob: blob))
        return EC2Credential(userID: userID, projectID: pid, access: access, secret: secret)
    }

    public func ec2Credentials(userID: String, by auth: AuthContext) async throws -> [EC2Credential] {
        try await authorizeEC2(userID: userID, by: auth, "ec2_list_credentials")
        return try await store.credentials().filter { $0.userID == userID }.compactMap(Self.ec2)
    }

    func storedEC2(userID: String, access: String) async throws -> (IdentityCredential, EC2Credential) {
        guard let c = try await store.credential(id: TokenCodec.hash(access)), c.userID == userID, let e = Self.ec2(c),
            e.access == access
        else { throw Self.notFound("credential", access) }
        return (c, e)
    }

    public func ec2Credential(userID: String, access: String, by auth: AuthContext) async throws -> EC2Credential {
        try await authorizeEC2(userID: userID, by: auth, "ec2_get_credential")
        return try await storedEC2(userID: userID, access: access).1
    }

    public func deleteEC2Credential(userID: String, access: String, by auth: AuthContext) async throws {
        try await authorizeEC2(userID: userID, by: auth, "ec2_delete_credential")
        let (c, _) = try await storedEC2(userID: userID, access: access)
        guard try await store.deleteCredential(id: c.id) else { throw Self.notFound("credential", access) }
    }
}
