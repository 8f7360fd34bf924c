/// A role granted to a group on a project, a domain or the system; every member of the group holds it there.
public struct IdentityGroupAssignment: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        case project(String)
        case domain(String)
        /// `"system": {"all": true}`
        case system
    }

    public var groupID: String
    public var target: Target
    public var roleID: String

    public init(groupID: String, target: Target, roleID: String) {
        self.groupID = groupID
        self.target = target
        self.roleID = roleID
    }
}
