/// One role of a user or a group on a project, a domain or the system: a row of `GET /v3/role_assignments`.
public struct RoleAssignment: Sendable, Hashable {
    public enum Scope: Sendable, Hashable {
        case project(String)
        case domain(String)
        /// `"system": {"all": true}`
        case system
    }

    public enum Actor: Sendable, Hashable {
        case user(String)
        case group(String)
    }

    public var actor: Actor
    public var roleID: String
    public var scope: Scope
    /// In an effective listing, the group through which the user holds the role (Keystone's `links.membership`).
    public var viaGroupID: String?

    public init(userID: String, roleID: String, scope: Scope, viaGroupID: String? = nil) {
        self.actor = .user(userID)
        self.roleID = roleID
        self.scope = scope
        self.viaGroupID = viaGroupID
    }

    public init(groupID: String, roleID: String, scope: Scope) {
        self.actor = .group(groupID)
        self.roleID = roleID
        self.scope = scope
        self.viaGroupID = nil
    }
}
