import GlimpseCore

// The records and the storage protocol of Glimpse's built-in identity service (Identity API v3 subset).
// Kept small and async so a PostgreSQL backend can implement it later; all policy lives in GlimpseIdentity.

public struct IdentityDomain: Sendable, Hashable {
    public var id: String
    public var name: String
    public var description: String
    public var enabled: Bool

    public init(id: String, name: String, description: String = "", enabled: Bool = true) {
        self.id = id
        self.name = name
        self.description = description
        self.enabled = enabled
    }
}

public struct IdentityProject: Sendable, Hashable {
    public var id: String
    public var name: String
    public var domainID: String
    public var description: String
    public var enabled: Bool
    /// Attributes Keystone keeps but does not interpret (as a JSON object text), echoed back to clients.
    public var extraJSON: String

    public init(id: String, name: String, domainID: String, description: String = "", enabled: Bool = true, extraJSON: String = "{}") {
        self.id = id
        self.name = name
        self.domainID = domainID
        self.description = description
        self.enabled = enabled
        self.extraJSON = extraJSON
    }
}

public struct IdentityUser: Sendable, Hashable {
    public var id: String
    public var name: String
    public var domainID: String
    public var enabled: Bool
    public var defaultProjectID: String?
    /// A salted slow hash (`$pbkdf2-sha256$...`); never the password. Nil: the user cannot log in with a password.
    public var passwordHash: String?
    public var extraJSON: String

    public init(
        id: String, name: String, domainID: String, enabled: Bool = true, defaultProjectID: String? = nil,
        passwordHash: String?, extraJSON: String = "{}"
    ) {
        self.id = id
        self.name = name
        self.domainID = domainID
        self.enabled = enabled
        self.defaultProjectID = defaultProjectID
        self.passwordHash = passwordHash
        self.extraJSON = extraJSON
    }
}

public struct IdentityRole: Sendable, Hashable {
    public var id: String
    public var name: String
    public var description: String
    /// A domain-specific role (Keystone's `domain_id`): it only names a set of implied roles, and never appears in
    /// tokens itself. Nil: a global role.
    public var domainID: String?

    public init(id: String, name: String, description: String = "", domainID: String? = nil) {
        self.id = id
        self.name = name
        self.description = description
        self.domainID = domainID
    }
}

/// A role granted to a user on a project.
public struct IdentityRoleAssignment: Sendable, Hashable {
    public var userID: String
    public var projectID: String
    public var roleID: String

    public init(userID: String, projectID: String, roleID: String) {
        self.userID = userID
        self.projectID = projectID
        self.roleID = roleID
    }
}

/// `prior` implies `implied` (admin implies member implies reader).
public struct IdentityImpliedRole: Sendable, Hashable {
    public var priorRoleID: String
    public var impliedRoleID: String

    public init(priorRoleID: String, impliedRoleID: String) {
        self.priorRoleID = priorRoleID
        self.impliedRoleID = impliedRoleID
    }
}

/// An issued token. Only the SHA-256 of the token is stored, never the token.
public struct IdentityTokenRecord: Sendable, Hashable {
    /// Lowercase hex SHA-256 of the token string.
    public var hash: String
    public var userID: String
    public var projectID: String?
    public var methods: [String]
    public var issuedAt: Timestamp
    public var expiresAt: Timestamp
    public var auditID: String
    /// The audit id of the token this one was rescoped from (Keystone's `audit_ids[1]`).
    public var parentAuditID: String?
    public var revoked: Bool
    /// Scoped to the system (`"system": {"all": true}`).
    public var system: Bool
    /// Scoped to this domain.
    public var domainID: String?
    /// Issued for this application credential.
    public var applicationCredentialID: String?

    public init(
        hash: String, userID: String, projectID: String?, methods: [String], issuedAt: Timestamp, expiresAt: Timestamp,
        auditID: String, parentAuditID: String? = nil, revoked: Bool = false, system: Bool = false,
        domainID: String? = nil, applicationCredentialID: String? = nil
    ) {
        self.hash = hash
        self.userID = userID
        self.projectID = projectID
        self.methods = methods
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.auditID = auditID
        self.parentAuditID = parentAuditID
        self.revoked = revoked
        self.system = system
        self.domainID = domainID
        self.applicationCredentialID = applicationCredentialID
    }
}

/// Storage of the built-in identity service. Inserts throw `GlimpseError.conflict` on a duplicate (id, or name
/// within a domain); deletes return whether something was deleted and cascade to assignments (and, for users,
/// tokens).
public protocol IdentityStore: Sendable {
    /// For a store other processes change at any moment (a database shared by several nodes): a number that
    /// every committed change of identity data (except issuing a token) increases. A validation remembered in
    /// memory is trusted only while this number is unchanged. Nil: only this process writes the store.
    func changeVersion() async throws -> Int64?

    // domains
    func domains() async throws -> [IdentityDomain]
    func domain(id: String) async throws -> IdentityDomain?
    func insertDomain(_ domain: IdentityDomain) async throws
    func updateDomain(_ domain: IdentityDomain) async throws
    /// Deletes the domain with its projects, users, groups, domain-specific roles and grants on it.
    func deleteDomain(id: String) async throws -> Bool

    // projects
    func projects() async throws -> [IdentityProject]
    func project(id: String) async throws -> IdentityProject?
    func insertProject(_ project: IdentityProject) async throws
    func updateProject(_ project: IdentityProject) async throws
    func deleteProject(id: String) async throws -> Bool

    // users
    func users() async throws -> [IdentityUser]
    func user(id: String) async throws -> IdentityUser?
    func user(name: String, domainID: String) async throws -> IdentityUser?
    func insertUser(_ user: IdentityUser) async throws
    func updateUser(_ user: IdentityUser) async throws
    func deleteUser(id: String) async throws -> Bool

    // roles
    func roles() async throws -> [IdentityRole]
    func insertRole(_ role: IdentityRole) async throws
    func deleteRole(id: String) async throws -> Bool
    func impliedRoles() async throws -> [IdentityImpliedRole]
    func insertImpliedRole(_ rule: IdentityImpliedRole) async throws
    func updateRole(_ role: IdentityRole) async throws
    func deleteImpliedRole(_ rule: IdentityImpliedRole) async throws -> Bool

    // role assignments on projects; nil filters match everything
    func assignments(userID: String?, projectID: String?, roleID: String?) async throws -> [IdentityRoleAssignment]
    /// Returns false when the assignment already existed.
    func grant(_ assignment: IdentityRoleAssignment) async throws -> Bool
    func revoke(_ assignment: IdentityRoleAssignment) async throws -> Bool

    // role assignments on domains and the system; nil filters match everything
    func targetAssignments(
        userID: String?, target: IdentityTargetAssignment.Target?, roleID: String?
    ) async throws -> [IdentityTargetAssignment]
    func grant(_ assignment: IdentityTargetAssignment) async throws -> Bool
    func revoke(_ assignment: IdentityTargetAssignment) async throws -> Bool

    // groups; deleting a group drops its memberships and grants
    func groups() async throws -> [IdentityGroup]
    func group(id: String) async throws -> IdentityGroup?
    func insertGroup(_ group: IdentityGroup) async throws
    func updateGroup(_ group: IdentityGroup) async throws
    func deleteGroup(id: String) async throws -> Bool
    /// Returns false when the user already was a member.
    func addMember(groupID: String, userID: String) async throws -> Bool
    func removeMember(groupID: String, userID: String) async throws -> Bool
    func memberIDs(groupID: String) async throws -> [String]
    func groupIDs(userID: String) async throws -> [String]

    // role grants to groups; nil filters match everything
    func groupAssignments(
        groupID: String?, target: IdentityGroupAssignment.Target?, roleID: String?
    ) async throws -> [IdentityGroupAssignment]
    func grant(_ assignment: IdentityGroupAssignment) async throws -> Bool
    func revoke(_ assignment: IdentityGroupAssignment) async throws -> Bool

    // credentials (`/v3/credentials`)
    func credentials() async throws -> [IdentityCredential]
    func credential(id: String) async throws -> IdentityCredential?
    func insertCredential(_ credential: IdentityCredential) async throws
    func updateCredential(_ credential: IdentityCredential) async throws
    func deleteCredential(id: String) async throws -> Bool

    // the service catalog; deleting a service deletes its endpoints
    func regions() async throws -> [IdentityRegion]
    func insertRegion(_ region: IdentityRegion) async throws
    func updateRegion(_ region: IdentityRegion) async throws
    func deleteRegion(id: String) async throws -> Bool
    func catalogServices() async throws -> [IdentityCatalogService]
    func insertCatalogService(_ service: IdentityCatalogService) async throws
    func updateCatalogService(_ service: IdentityCatalogService) async throws
    func deleteCatalogService(id: String) async throws -> Bool
    func endpoints() async throws -> [IdentityEndpoint]
    func insertEndpoint(_ endpoint: IdentityEndpoint) async throws
    func updateEndpoint(_ endpoint: IdentityEndpoint) async throws
    func deleteEndpoint(id: String) async throws -> Bool

    // application credentials
    func applicationCredentials(userID: String) async throws -> [IdentityApplicationCredential]
    func applicationCredential(id: String) async throws -> IdentityApplicationCredential?
    func applicationCredential(userID: String, name: String) async throws -> IdentityApplicationCredential?
    func insertApplicationCredential(_ credential: IdentityApplicationCredential) async throws
    func deleteApplicationCredential(id: String) async throws -> Bool
    /// Keystone drops a user's credentials on a project when a role of the user there is removed.
    func deleteApplicationCredentials(userID: String, projectID: String) async throws

    // tokens
    func insertToken(_ token: IdentityTokenRecord) async throws
    func token(hash: String) async throws -> IdentityTokenRecord?
    func revokeToken(hash: String) async throws -> Bool
    /// Revokes every token of the user (password change, user disabled).
    func revokeTokens(userID: String) async throws
    /// Forgets tokens that expired before `now`.
    func purgeTokens(expiredBefore now: Timestamp) async throws
}

extension IdentityStore {
    /// Embedded stores belong to one process.
    public func changeVersion() async throws -> Int64? { nil }
}
