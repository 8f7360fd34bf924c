/// A role granted to a user on a domain or on the whole deployment (Keystone's system scope). Grants on projects
/// are `IdentityRoleAssignment`s.
public struct IdentityTargetAssignment: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        /// `"system": {"all": true}`
        case system
        case domain(String)
    }

    public var userID: String
    public var target: Target
    public var roleID: String

    public init(userID: String, target: Target, roleID: String) {
        self.userID = userID
        self.target = target
        self.roleID = roleID
    }
}
