// The metadata definitions catalog's domain records (Glance's `metadef_*` tables), as the metadefs service and
// every metadefs store exchange them. Timestamps are microseconds since the epoch; JSON-shaped parts are JSON text.

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
