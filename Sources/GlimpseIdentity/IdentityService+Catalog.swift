import GlimpseCore
import GlimpseStorage

// The service catalog: regions, services and endpoints as stored (admins write, readers read, anyone
// authenticated reads regions), Keystone's validation, and the catalog that tokens carry.
extension IdentityService {
    /// Seeds the configured catalog when the store has none yet (first start, or a store from before the catalog
    /// was stored), so that tokens keep advertising Glimpse's own services.
    func seedCatalog() async throws {
        guard try await store.catalogServices().isEmpty, try await store.regions().isEmpty else { return }
        try await store.insertRegion(IdentityRegion(id: options.region))
        for s in ServiceCatalog.configured(publicURL: options.publicURL, region: options.region).services {
            try await store.insertCatalogService(IdentityCatalogService(id: s.id, type: s.type, name: s.name))
            for e in s.endpoints {
                try await store.insertEndpoint(
                    IdentityEndpoint(id: e.id, serviceID: s.id, interface: e.interface, url: e.url, regionID: e.region))
            }
        }
    }

    /// What tokens and `/v3/auth/catalog` show: enabled services with their enabled endpoints.
    public func catalog() async throws -> ServiceCatalog {
        ServiceCatalog(services: try await store.catalogServices(), endpoints: try await store.endpoints())
    }

    static func badField(_ name: String, _ why: String) -> GlimpseError {
        .badRequest("Invalid input for field '\(name)': \(why)")
    }

    /// An optional string field: absent is nil, anything but a string is 400.
    static func optionalString(_ body: [String: JSONValue], _ key: String) throws -> String? {
        guard let v = body[key] else { return nil }
        if case .null = v { return nil }
        guard let s = IdentityInput.string(body, key) else { throw badField(key, "it must be a string.") }
        return s
    }

    // MARK: regions

    public func regions(by auth: AuthContext, parentRegionID: String?) async throws -> [IdentityRegion] {
        let all = try await store.regions()
        guard let parentRegionID else { return all }
        return all.filter { $0.parentRegionID == parentRegionID }
    }

    public func region(id: String, by auth: AuthContext) async throws -> IdentityRegion {
        guard let r = try await store.regions().first(where: { $0.id == id }) else { throw Self.notFound("region", id) }
        return r
    }

    func checkParent(_ parent: String?, of id: String) async throws {
        guard let parent else { return }
        let regions = try await store.regions()
        guard regions.contains(where: { $0.id == parent }) else { throw Self.badField("parent_region_id", "region \(parent) does not exist.") }
        // Walk up from the parent: reaching `id` would make a loop.
        var seen = Set<String>()
        var current: String? = parent
        while let c = current, seen.insert(c).inserted {
            if c == id { throw Self.badField("parent_region_id", "it would make a loop of regions.") }
            current = regions.first(where: { $0.id == c })?.parentRegionID
        }
    }

    /// `POST /v3/regions` (a generated id) or `PUT /v3/regions/{id}` (the given id).
    public func createRegion(id given: String?, _ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityRegion {
        try IdentityPolicy.requireAdmin(auth, "create_region")
        let id = try given ?? Self.optionalString(body, "id") ?? TokenCodec.newID()
        guard !id.isEmpty, id.count <= 255 else { throw Self.badField("id", "a string of 1 to 255 characters.") }
        let parent = try Self.optionalString(body, "parent_region_id")
        try await checkParent(parent, of: id)
        let r = IdentityRegion(id: id, description: try Self.optionalString(body, "description") ?? "", parentRegionID: parent)
        do {
            try await store.insertRegion(r)
        } catch let e as GlimpseError where e.kind == .conflict {
            throw GlimpseError.conflict("Conflict occurred attempting to store region - Duplicate ID, \(id).")
        }
        return r
    }

    public func updateRegion(id: String, _ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityRegion {
        try IdentityPolicy.requireAdmin(auth, "update_region")
        var r = try await region(id: id, by: auth)
        if let d = try Self.optionalString(body, "description") { r.description = d }
        if body["parent_region_id"] != nil {
            r.parentRegionID = try Self.optionalString(body, "parent_region_id")
            try await checkParent(r.parentRegionID, of: id)
        }
        try await store.updateRegion(r)
        return r
    }

    /// Keystone refuses to delete a region that still has child regions.
    public func deleteRegion(id: String, by auth: AuthContext) async throws {
        try IdentityPolicy.requireAdmin(auth, "delete_region")
        let all = try await store.regions()
        guard all.contains(where: { $0.id == id }) else { throw Self.notFound("region", id) }
        if all.contains(where: { $0.parentRegionID == id }) {
            throw GlimpseError.forbidden("Unable to delete region \(id): it has child regions.")
        }
        guard try await store.deleteRegion(id: id) else { throw Self.notFound("region", id) }
    }

    // MARK: services

    public func catalogServices(by auth: AuthContext, type: String?, name: String?) async throws -> [IdentityCatalogService] {
        try IdentityPolicy.requireReader(auth, "list_services")
        var list = try await store.catalogServices()
        if let type { list = list.filter { $0.type == type } }
        if let name { list = list.filter { $0.name == name } }
        return list
    }

    public func catalogService(id: String, by auth: AuthContext) async throws -> IdentityCatalogService {
        try IdentityPolicy.requireReader(auth, "get_service")
        guard let s = try await store.catalogServices().first(where: { $0.id == id }) else { throw Self.notFound("service", id) }
        return s
    }

    public func createCatalogService(_ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityCatalogService {
        try IdentityPolicy.requireAdmin(auth, "create_service")
        guard let type = try Self.optionalString(body, "type"), !type.isEmpty, type.count <= 255 else {
            throw Self.badField("type", "'type' is a required string of 1 to 255 characters.")
        }
        let s = IdentityCatalogService(
            id: TokenCodec.newID(), type: type, name: try Self.optionalString(body, "name") ?? "",
            description: try Self.optionalString(body, "description") ?? "", enabled: try IdentityInput.bool(body, "enabled") ?? true)
        try await store.insertCatalogService(s)
        return s
    }

    public func updateCatalogService(id: String, _ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityCatalogService {
        try IdentityPolicy.requireAdmin(auth, "update_service")
        var s = try await catalogService(id: id, by: auth)
        if let t = try Self.optionalString(body, "type") {
            guard !t.isEmpty, t.count <= 255 else { throw Self.badField("type", "a string of 1 to 255 characters.") }
            s.type = t
        }
        if let n = try Self.optionalString(body, "name") { s.name = n }
        if let d = try Self.optionalString(body, "description") { s.description = d }
        if let e = try IdentityInput.bool(body, "enabled") { s.enabled = e }
        try await store.updateCatalogService(s)
        return s
    }

    public func deleteCatalogService(id: String, by auth: AuthContext) async throws {
        try IdentityPolicy.requireAdmin(auth, "delete_service")
        guard try await store.deleteCatalogService(id: id) else { throw Self.notFound("service", id) }
    }

    // MARK: endpoints

    public func endpoints(
        by auth: AuthContext, interface: String?, serviceID: String?, regionID: String?
    ) async throws -> [IdentityEndpoint] {
        try IdentityPolicy.requireReader(auth, "list_endpoints")
        var list = try await store.endpoints()
        if let interface { list = list.filter { $0.interface == interface } }
        if let serviceID { list = list.filter { $0.serviceID == serviceID } }
        if let regionID { list = list.filter { $0.regionID == regionID } }
        return list
    }

    public func endpoint(id: String, by auth: AuthContext) async throws -> IdentityEndpoint {
        try IdentityPolicy.requireReader(auth, "get_endpoint")
        guard let e = try await store.endpoints().first(where: { $0.id == id }) else { throw Self.notFound("endpoint", id) }
        return e
    }

    /// Applies and checks the fields of an endpoint, as Keystone does: `enabled` must be a JSON boolean, the
    /// interface one of public, internal and admin, the service must exist. `region_id` must name a region; the
    /// legacy `region` creates its region when missing.
    func applyEndpointFields(_ body: [String: JSONValue], to e: inout IdentityEndpoint) async throws {
        if let v = body["enabled"] {
            guard case .bool(let b) = v else { throw Self.badField("enabled", "it must be a boolean.") }
            e.enabled = b
        }
        if let i = try Self.optionalString(body, "interface") { e.interface = i }
        guard ServiceCatalog.interfaces.contains(e.interface) else {
            throw Self.badField("interface", "it must be one of public, internal and admin.")
        }
        if let u = try Self.optionalString(body, "url") { e.url = u }
        guard !e.url.isEmpty, e.url.count <= 225 else { throw Self.badField("url", "a string of 1 to 225 characters.") }
        if let s = try Self.optionalString(body, "service_id") { e.serviceID = s }
        guard try await store.catalogServices().contains(where: { $0.id == e.serviceID }) else {
            throw Self.badField("service_id", "service \(e.serviceID) does not exist.")
        }
        let regions = try await store.regions()
        if let r = try Self.optionalString(body, "region_id") {
            guard regions.contains(where: { $0.id == r }) else { throw Self.badField("region_id", "region \(r) does not exist.") }
            e.regionID = r
        } else if let r = try Self.optionalString(body, "region") {
            if !regions.contains(where: { $0.id == r }) { try await store.insertRegion(IdentityRegion(id: r)) }
            e.regionID = r
        }
    }

    public func createEndpoint(_ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityEndpoint {
        try IdentityPolicy.requireAdmin(auth, "create_endpoint")
        guard body["interface"] != nil, body["url"] != nil, body["service_id"] != nil else {
            throw GlimpseError.badRequest("Invalid input: 'interface', 'url' and 'service_id' are required.")
        }
        var e = IdentityEndpoint(id: TokenCodec.newID(), serviceID: "", interface: "", url: "", regionID: nil)
        try await applyEndpointFields(body, to: &e)
        try await store.insertEndpoint(e)
        return e
    }

    public func updateEndpoint(id: String, _ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityEndpoint {
        try IdentityPolicy.requireAdmin(auth, "update_endpoint")
        var e = try await endpoint(id: id, by: auth)
        try await applyEndpointFields(body, to: &e)
        try await store.updateEndpoint(e)
        return e
    }

    public func deleteEndpoint(id: String, by auth: AuthContext) async throws {
        try IdentityPolicy.requireAdmin(auth, "delete_endpoint")
        guard try await store.deleteEndpoint(id: id) else { throw Self.notFound("endpoint", id) }
    }
}
