// The metadata definitions catalog's domain records (Glance's `metadef_*` tables), as the metadefs service and
// every metadefs store exchange them. Timestamps are microseconds since the epoch; JSON-shaped parts are JSON text.

/// A resource type (`metadef_resource_types`); `protected` ones are the seeded system types.
public struct MetadefResourceTypeRecord: Sendable, Equatable {
    public var name: String
    public var protected: Bool
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(name: String, protected: Bool, createdAt: Int64, updatedAt: Int64) {
        self.name = name
        self.protected = protected
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
