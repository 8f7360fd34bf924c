/// A region of the service catalog (`/v3/regions`), optionally inside a parent region.
public struct IdentityRegion: Sendable, Hashable {
    public var id: String
    public var description: String
    public var parentRegionID: String?

    public init(id: String, description: String = "", parentRegionID: String? = nil) {
        self.id = id
        self.description = description
        self.parentRegionID = parentRegionID
    }
}
