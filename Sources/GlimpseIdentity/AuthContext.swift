import GlimpseCore
import GlimpseStorage

/// A token that validated: who it is for, what it is scoped to (a project, a domain, the system, or nothing),
/// the effective roles, and the application credential it came from.
public struct AuthContext: Sendable {
    public var token: IdentityTokenRecord
    public var user: IdentityUser
    public var userDomain: IdentityDomain
    public var project: IdentityProject?
    public var projectDomain: IdentityDomain?
    /// The domain of a domain-scoped token.
    public var domain: IdentityDomain?
    /// Effective roles (implied roles expanded), sorted by name.
    public var roles: [IdentityRole]
    public var applicationCredential: IdentityApplicationCredential?

    public var system: Bool { token.system }
    public var roleNames: Set<String> { Set(roles.map(\.name)) }
    /// A project-scoped admin: Keystone's legacy `admin_required`, still accepted by its default policy.
    public var isAdmin: Bool { project != nil && roles.contains { $0.name == "admin" } }
    public var isScoped: Bool { project != nil || domain != nil || system }

    public var caller: Caller {
        let scope: Caller.Scope
        if system {
            scope = .system
        } else if let domain {
            scope = .domain(domain.id)
        } else {
            scope = .project
        }
        return Caller(
            userID: user.id, projectID: project?.id, roles: roleNames, userName: user.name, projectName: project?.name,
            scope: scope)
    }

    public var auditIDs: [String] { [token.auditID] + (token.parentAuditID.map { [$0] } ?? []) }
}
