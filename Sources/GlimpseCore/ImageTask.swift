/// A Glance task: the record of an asynchronous image import (`GET /v2/images/{id}/tasks`, `/v2/tasks`).
public struct ImageTask: Sendable, Equatable {
    public enum Status: String, Sendable, Codable { case pending, processing, success, failure }

    public var id: String
    public var type: String
    public var status: Status
    public var owner: String?
    public var imageID: String?
    public var requestID: String?
    public var userID: String?
    /// The task's input as JSON text (Glance echoes the import request under `import_req`).
    public var input: String
    /// The task's result as JSON text, or nil.
    public var result: String?
    public var message: String
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var expiresAt: Timestamp?

    public init(
        id: String, type: String = "api_image_import", status: Status = .pending, owner: String?,
        imageID: String?, requestID: String?, userID: String?, input: String, result: String? = nil,
        message: String = "", createdAt: Timestamp, updatedAt: Timestamp, expiresAt: Timestamp? = nil
    ) {
        self.id = id
        self.type = type
        self.status = status
        self.owner = owner
        self.imageID = imageID
        self.requestID = requestID
        self.userID = userID
        self.input = input
        self.result = result
        self.message = message
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
    }
}
