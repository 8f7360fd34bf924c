import GlimpseCore

// The metadata definitions catalog (Glance's `metadef_*` tables): namespaces and what they hold (objects, properties,
// tags, resource-type associations) plus the resource types themselves. Records are plain values; the service above
// decides who may see or change them. Timestamps are microseconds since the epoch. JSON-shaped parts (a property's
// schema, an object's properties) are kept as JSON text the service writes and reads.

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
