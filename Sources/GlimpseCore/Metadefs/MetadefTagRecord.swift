// The metadata definitions catalog's domain records (Glance's `metadef_*` tables), as the metadefs service and
// every metadefs store exchange them. Timestamps are microseconds since the epoch; JSON-shaped parts are JSON text.

/// A tag of a namespace (`metadef_tags`). Tag names are unique per namespace, ignoring case.
public struct MetadefTagRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(id: Int64 = 0, name: String, createdAt: Int64, updatedAt: Int64) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
