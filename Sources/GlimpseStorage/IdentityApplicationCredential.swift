import GlimpseCore

/// An application credential: a secret that logs its owner in to one project (or the system) with a subset of
/// the owner's roles there. Only a salted hash of the secret is kept.
public struct IdentityApplicationCredential: Sendable, Hashable {
    public var id: String
    public var userID: String
    public var name: String
    public var description: String
    /// The project its tokens are scoped to; nil for a system-scoped credential.
    public var projectID: String?
    public var system: Bool
    public var secretHash: String
    public var expiresAt: Timestamp?
    /// False (the default): its tokens may not create or delete application credentials.
    public var unrestricted: Bool
    public var roleIDs: [String]

    public init(
        id: String, userID: String, name: String, description: String = "", projectID: String?, system: Bool = false,
        secretHash: String, expiresAt: Timestamp? = nil, unrestricted: Bool = false, roleIDs: [String]
    ) {
        self.id = id
        self.userID = userID
        self.name = name
        self.description = description
        self.projectID = projectID
        self.system = system
        self.secretHash = secretHash
        self.expiresAt = expiresAt
        self.unrestricted = unrestricted
        self.roleIDs = roleIDs
    }
}
