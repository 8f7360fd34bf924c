// The metadata definitions catalog's domain records (Glance's `metadef_*` tables), as the metadefs service and
// every metadefs store exchange them. Timestamps are microseconds since the epoch; JSON-shaped parts are JSON text.

/// A namespace's association with a resource type (`metadef_namespace_resource_types`), named by the type.
public struct MetadefAssociationRecord: Sendable, Equatable {
    public var name: String
    public var prefix: String?
    public var propertiesTarget: String?
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(name: String, prefix: String?, propertiesTarget: String?, createdAt: Int64, updatedAt: Int64) {
        self.name = name
        self.prefix = prefix
        self.propertiesTarget = propertiesTarget
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
