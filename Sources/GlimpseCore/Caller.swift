// GlimpseCore owns the domain: images, members, statuses and their transitions, the policy table and typed errors.
// It performs no I/O and knows nothing of HTTP or storage engines.

/// Who is making a request: the identity a token (or, in development, trusted headers) resolved to.
public struct Caller: Sendable, Hashable {
    public var userID: String
    public var projectID: String?
    public var roles: Set<String>

    public init(userID: String, projectID: String?, roles: Set<String>) {
        self.userID = userID
        self.projectID = projectID
        self.roles = roles
    }

    public func hasRole(_ role: String) -> Bool { roles.contains(role) }

    /// Glance's `context_is_admin` rule: `role:admin`.
    public var isAdmin: Bool { roles.contains("admin") }

    /// True when the caller acts for `project` (Glance's `project_id:%(project_id)s`).
    public func actsFor(_ project: String?) -> Bool {
        guard let projectID, let project else { return false }
        return projectID == project
    }
}
