// The metadata definitions catalog's domain records (Glance's `metadef_*` tables), as the metadefs service and
// every metadefs store exchange them. Timestamps are microseconds since the epoch; JSON-shaped parts are JSON text.

/// An object of a namespace (`metadef_objects`). `properties` is a JSON object text (name → property schema).
public struct MetadefObjectRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var description: String?
    public var required: [String]
    public var properties: String
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(
        id: Int64 = 0, name: String, description: String?, required: [String], properties: String, createdAt: Int64,
        updatedAt: Int64
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.required = required
        self.properties = properties
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
