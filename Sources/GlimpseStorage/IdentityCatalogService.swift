/// A service of the catalog (`/v3/services`): its type (`image`, `compute`, ...) and name.
public struct IdentityCatalogService: Sendable, Hashable {
    public var id: String
    public var type: String
    public var name: String
    public var description: String
    public var enabled: Bool

    public init(id: String, type: String, name: String, description: String = "", enabled: Bool = true) {
        self.id = id
        self.type = type
        self.name = name
        self.description = description
        self.enabled = enabled
    }
}
