// GlimpseCore owns the domain: images, members, statuses and their transitions, the policy table and typed errors.
// It performs no I/O and knows nothing of HTTP or storage engines.

/// Who is making a request: the identity a token (or, in development, trusted headers) resolved to.
public struct Caller: Sendable, Hashable {
    public var userID: String
    public var projectID: String?
    public var roles: Set<String>
    /// The names keystonemiddleware passes on as X-User-Name / X-Project-Name (Nova records them on snapshots).
    public var userName: String?
    public var projectName: String?
    /// What the token is scoped to. The image and compute APIs serve project scope only, as Glance 33 and Nova do
    /// with `enforce_scope`.
    public var scope: Scope

    public enum Scope: Sendable, Hashable {
        /// A project-scoped token, or an unscoped one (`projectID` nil).
        case project
        /// `"system": {"all": true}`.
        case system
        /// A domain-scoped token.
        case domain(String)
    }

    public init(
        userID: String, projectID: String?, roles: Set<String>, userName: String? = nil, projectName: String? = nil,
        scope: Scope = .project
    ) {
        self.userID = userID
        self.projectID = projectID
        self.roles = roles
        self.userName = userName
        self.projectName = projectName
        self.scope = scope
    }

    public func hasRole(_ role: String) -> Bool { roles.contains(role) }

    /// Glance's `context_is_admin` rule, `role:admin`, on a project-scoped token: the image and compute APIs enforce
    /// scope, so a system administrator is not an administrator of projects' images and servers.
    public var isAdmin: Bool { scope == .project && roles.contains("admin") }

    /// True when the caller acts for `project` (Glance's `project_id:%(project_id)s`).
    public func actsFor(_ project: String?) -> Bool {
        guard let projectID, let project else { return false }
        return projectID == project
    }
}
