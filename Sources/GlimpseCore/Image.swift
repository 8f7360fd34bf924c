/// An image record: Glance's base attributes, tags and free-form extra properties (always strings).
public struct Image: Sendable, Equatable {
    public var id: String
    public var name: String?
    public var status: ImageStatus
    public var visibility: Visibility
    public var protected: Bool
    public var osHidden: Bool
    public var checksum: String?
    public var osHashAlgo: String?
    public var osHashValue: String?
    public var owner: String?
    public var size: Int64?
    public var virtualSize: Int64?
    public var diskFormat: String?
    public var containerFormat: String?
    public var minRAM: Int64
    public var minDisk: Int64
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var tags: [String]
    public var properties: [String: String]

    public init(
        id: String, name: String? = nil, status: ImageStatus = .queued, visibility: Visibility = .shared,
        protected: Bool = false, osHidden: Bool = false, checksum: String? = nil, osHashAlgo: String? = nil,
        osHashValue: String? = nil, owner: String? = nil, size: Int64? = nil, virtualSize: Int64? = nil,
        diskFormat: String? = nil, containerFormat: String? = nil, minRAM: Int64 = 0, minDisk: Int64 = 0,
        createdAt: Timestamp, updatedAt: Timestamp, tags: [String] = [], properties: [String: String] = [:]
    ) {
        self.id = id
        self.name = name
        self.status = status
        self.visibility = visibility
        self.protected = protected
        self.osHidden = osHidden
        self.checksum = checksum
        self.osHashAlgo = osHashAlgo
        self.osHashValue = osHashValue
        self.owner = owner
        self.size = size
        self.virtualSize = virtualSize
        self.diskFormat = diskFormat
        self.containerFormat = containerFormat
        self.minRAM = minRAM
        self.minDisk = minDisk
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.tags = tags
        self.properties = properties
    }

    /// The limits Glance enforces by default (`image_property_quota`, `image_tag_quota`).
    public static let maxProperties = 128
    public static let maxTags = 128
    public static let maxMembers = 128
}

/// A project an image is shared with.
public struct ImageMember: Sendable, Equatable {
    public var imageID: String
    public var memberID: String
    public var status: MemberStatus
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(imageID: String, memberID: String, status: MemberStatus, createdAt: Timestamp, updatedAt: Timestamp) {
        self.imageID = imageID
        self.memberID = memberID
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
