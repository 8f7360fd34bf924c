/// A user's credential for another service (Keystone's `/v3/credentials`, e.g. EC2 access/secret pairs): an
/// opaque `blob` string of a `type`, optionally tied to a project.
public struct IdentityCredential: Sendable, Hashable {
    public var id: String
    public var userID: String
    public var projectID: String?
    public var type: String
    public var blob: String

    public init(id: String, userID: String, projectID: String?, type: String, blob: String) {
        self.id = id
        self.userID = userID
        self.projectID = projectID
        self.type = type
        self.blob = blob
    }
}
