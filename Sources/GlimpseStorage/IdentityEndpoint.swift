/// One URL of a catalog service for one interface (`public`, `internal`, `admin`) in one region (`/v3/endpoints`).
public struct IdentityEndpoint: Sendable, Hashable {
    public var id: String
    public var serviceID: String
    public var interface: String
    public var url: String
    public var regionID: String?
    public var enabled: Bool

    public init(id: String, serviceID: String, interface: String, url: String, regionID: String?, enabled: Bool = true) {
        self.id = id
        self.serviceID = serviceID
        self.interface = interface
        self.url = url
        self.regionID = regionID
        self.enabled = enabled
    }
}
