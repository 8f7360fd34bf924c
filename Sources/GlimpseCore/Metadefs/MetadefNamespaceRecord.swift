// The metadata definitions catalog's domain records (Glance's `metadef_*` tables), as the metadefs service and
// every metadefs store exchange them. Timestamps are microseconds since the epoch; JSON-shaped parts are JSON text.

/// A namespace (`metadef_namespaces`). `id` is assigned by the store.
public struct MetadefNamespaceRecord: Sendable, Equatable {
    public var id: Int64
    public var namespace: String
    public var displayName: String?
    public var description: String?
    public var visibility: String
    public var protected: Bool
    public var owner: String?
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(
        id: Int64 = 0, namespace: String, displayName: String?, description: String?, visibility: String,
        protected: Bool, owner: String?, createdAt: Int64, updatedAt: Int64
    ) {
        self.id = id
        self.namespace = namespace
        self.displayName = displayName
        self.description = description
        self.visibility = visibility
        self.protected = protected
        self.owner = owner
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
