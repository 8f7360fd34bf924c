/// A group of users in a domain (Keystone's `/v3/groups`). Roles granted to a group apply to all its members.
public struct IdentityGroup: Sendable, Hashable {
    public var id: String
    public var name: String
    public var domainID: String
    public var description: String
    /// Attributes Keystone keeps but does not interpret (as a JSON object text), echoed back to clients.
    public var extraJSON: String

    public init(id: String, name: String, domainID: String, description: String = "", extraJSON: String = "{}") {
        self.id = id
        self.name = name
        self.domainID = domainID
        self.description = description
        self.extraJSON = extraJSON
    }
}
