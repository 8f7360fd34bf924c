/// One role of a user on a project, a domain or the system: a row of `GET /v3/role_assignments`.
public struct RoleAssignment: Sendable, Hashable {
    public enum Scope: Sendable, Hashable {
        case project(String)
        case domain(String)
        /// `"system": {"all": true}`
        case system
    }

    public var userID: String
    public var roleID: String
    public var scope: Scope

    public init(userID: String, roleID: String, scope: Scope) {
        self.userID = userID
        self.roleID = roleID
        self.scope = scope
    }
}
