import GlimpseCore

// The metadata definitions catalog (Glance's `metadef_*` tables): namespaces and what they hold (objects, properties,
// tags, resource-type associations) plus the resource types themselves. Records are plain values; the service above
// decides who may see or change them. Timestamps are microseconds since the epoch. JSON-shaped parts (a property's
// schema, an object's properties) are kept as JSON text the service writes and reads.

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

/// A property of a namespace (`metadef_properties`). `schema` is a JSON object text.
public struct MetadefPropertyRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var schema: String
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(id: Int64 = 0, name: String, schema: String, createdAt: Int64, updatedAt: Int64) {
        self.id = id
        self.name = name
        self.schema = schema
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

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

/// What a namespace list asks for: who looks (`project`, or everything for admins), filters, one page.
public struct MetadefNamespaceQuery: Sendable {
    public enum SortKey: String, Sendable, CaseIterable {
        case createdAt = "created_at", updatedAt = "updated_at", namespace, displayName = "display_name"
        case owner, visibility, id
    }

    /// Admins see every namespace; others see public ones, unowned ones and those their project owns.
    public var seesAll: Bool
    public var project: String?
    public var visibility: String?
    /// Only namespaces associated with one of these resource types (nil: no such filter).
    public var resourceTypes: [String]?
    /// The page starts after this namespace (in the sort order).
    public var marker: MetadefNamespaceRecord?
    public var limit: Int
    public var sortKey: SortKey
    public var ascending: Bool

    public init(
        seesAll: Bool, project: String?, visibility: String? = nil, resourceTypes: [String]? = nil,
        marker: MetadefNamespaceRecord? = nil, limit: Int = 25, sortKey: SortKey = .createdAt, ascending: Bool = false
    ) {
        self.seesAll = seesAll
        self.project = project
        self.visibility = visibility
        self.resourceTypes = resourceTypes
        self.marker = marker
        self.limit = limit
        self.sortKey = sortKey
        self.ascending = ascending
    }
}

/// A write would give two records of one kind the same name (`name` is the clashing name).
public struct MetadefDuplicateError: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case namespace, object, property, tag, association }
    public var kind: Kind
    public var name: String

    public init(_ kind: Kind, _ name: String) {
        self.kind = kind
        self.name = name
    }
}

/// What `deleteContent` clears out of a namespace.
public enum MetadefContentKind: Sendable {
    case objects, properties, tags
}

/// Storage of the metadefs catalog. Writes are atomic; name clashes throw `MetadefDuplicateError`.
public protocol MetadefStore: Sendable {
    // namespaces
    func namespace(named name: String) async throws -> MetadefNamespaceRecord?
    func namespaces(_ query: MetadefNamespaceQuery) async throws -> [MetadefNamespaceRecord]
    /// Creates a namespace with its initial content, all or nothing; returns it with its id.
    func createNamespace(
        _ namespace: MetadefNamespaceRecord, associations: [MetadefAssociationRecord],
        objects: [MetadefObjectRecord], properties: [MetadefPropertyRecord], tags: [MetadefTagRecord]
    ) async throws -> MetadefNamespaceRecord
    /// Replaces the namespace with `namespace.id` (which may rename it). False when it is gone.
    func updateNamespace(_ namespace: MetadefNamespaceRecord) async throws -> Bool
    /// Deletes a namespace and everything in it.
    func deleteNamespace(id: Int64) async throws
    func deleteContent(_ kind: MetadefContentKind, namespaceID: Int64) async throws

    // objects
    func objects(namespaceID: Int64) async throws -> [MetadefObjectRecord]
    func object(namespaceID: Int64, name: String) async throws -> MetadefObjectRecord?
    func insertObject(_ object: MetadefObjectRecord, namespaceID: Int64) async throws -> MetadefObjectRecord
    /// Replaces the object with `object.id`. False when it is gone.
    func updateObject(_ object: MetadefObjectRecord) async throws -> Bool
    func deleteObject(id: Int64) async throws

    // properties
    func properties(namespaceID: Int64) async throws -> [MetadefPropertyRecord]
    func property(namespaceID: Int64, name: String) async throws -> MetadefPropertyRecord?
    func insertProperty(_ property: MetadefPropertyRecord, namespaceID: Int64) async throws -> MetadefPropertyRecord
    func updateProperty(_ property: MetadefPropertyRecord) async throws -> Bool
    func deleteProperty(id: Int64) async throws

    // tags
    /// Tags in `created_at` order (then creation order), newest first unless `ascending`; after the tag named
    /// `markerName` when given; at most `limit` when given.
    func tags(namespaceID: Int64, ascending: Bool, sortByName: Bool, markerName: String?, limit: Int?)
        async throws -> [MetadefTagRecord]
    func tag(namespaceID: Int64, name: String) async throws -> MetadefTagRecord?
    func insertTag(_ tag: MetadefTagRecord, namespaceID: Int64) async throws -> MetadefTagRecord
    /// Adds tags at once; unless `append`, the namespace's existing tags are replaced.
    func insertTags(_ tags: [MetadefTagRecord], namespaceID: Int64, append: Bool) async throws
    func updateTag(_ tag: MetadefTagRecord) async throws -> Bool
    func deleteTag(id: Int64) async throws

    // resource types
    func resourceTypes() async throws -> [MetadefResourceTypeRecord]
    func associations(namespaceID: Int64) async throws -> [MetadefAssociationRecord]
    func associations(namespaceIDs: [Int64]) async throws -> [Int64: [MetadefAssociationRecord]]
    /// Associates a resource type (created, unprotected, when unknown) with a namespace.
    func addAssociation(_ association: MetadefAssociationRecord, namespaceID: Int64) async throws
    /// False when there was no such association.
    func removeAssociation(namespaceID: Int64, resourceType: String) async throws -> Bool
}

extension MetadefResourceTypeRecord {
    /// The resource types Glance's standard metadata definitions associate namespaces with
    /// (what `glance-manage db_load_metadefs` leaves in a new deployment).
    public static let standardNames: [String] = [
        "OS::Glance::Image",
        "OS::Cinder::Volume",
        "OS::Nova::Flavor",
        "OS::Nova::Aggregate",
        "OS::Nova::Server",
        "OS::Trove::Instance",
    ]
}
