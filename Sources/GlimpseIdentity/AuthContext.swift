import GlimpseCore
import GlimpseStorage

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
