import GlimpseCore
import GlimpseHTTP
import GlimpseStorage
import HTTPTypes
import Hummingbird

/// The catalog administration: `/v3/regions`, `/v3/services`, `/v3/endpoints` (list, create, show, update,
/// delete; regions also by `PUT /v3/regions/{id}`).
struct CatalogController: Sendable {
    let service: IdentityService
    let base: String

    func addRoutes(to v3: RouterGroup<IdentityRequestContext>) {
        v3.get("regions", use: listRegions)
        v3.post("regions", use: createRegion)
        v3.put("regions/:id", use: createRegion)
        v3.get("regions/:id", use: showRegion)
        v3.patch("regions/:id", use: updateRegion)
        v3.delete("regions/:id", use: deleteRegion)
        v3.get("services", use: listServices)
        v3.post("services", use: createService)
        v3.get("services/:id", use: showService)
        v3.patch("services/:id", use: updateService)
        v3.delete("services/:id", use: deleteService)
        v3.get("endpoints", use: listEndpoints)
        v3.post("endpoints", use: createEndpoint)
        v3.get("endpoints/:id", use: showEndpoint)
        v3.patch("endpoints/:id", use: updateEndpoint)
        v3.delete("endpoints/:id", use: deleteEndpoint)
    }

    func body(_ request: Request, _ context: IdentityRequestContext, _ key: String) async throws -> [String: JSONValue] {
        try IdentityInput.object(try await request.decodeJSONObject(context: context.glimpse), key)
    }

    // MARK: regions

    func regionJSON(_ r: IdentityRegion, into w: inout JSONWriter) {
        w.object { o in
            o.field("id", r.id)
            o.field("description", r.description)
            o.field("parent_region_id", r.parentRegionID)
            o.links(self: "\(base)/regions/\(r.id)")
        }
    }

    func region(_ r: IdentityRegion, status: HTTPResponse.Status = .ok) -> Response {
        IdentityResponse.one("region", status: status) { regionJSON(r, into: &$0) }
    }

    /// Any authenticated caller may read regions.
    @Sendable func listRegions(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let list = try await service.regions(
            by: try context.requireAuth(), parentRegionID: IdentityResponse.query(request, "parent_region_id"))
        return IdentityResponse.list("regions", list, url: base + "/regions") { r, w in regionJSON(r, into: &w) }
    }

    @Sendable func createRegion(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let id = request.method == .put ? try context.parameter("id") : nil
        let r = try await service.createRegion(id: id, try await body(request, context, "region"), by: try context.requireAuth())
        return region(r, status: .created)
    }

    @Sendable func showRegion(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        region(try await service.region(id: try context.parameter("id"), by: try context.requireAuth()))
    }

    @Sendable func updateRegion(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        region(
            try await service.updateRegion(
                id: try context.parameter("id"), try await body(request, context, "region"), by: try context.requireAuth()))
    }

    @Sendable func deleteRegion(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.deleteRegion(id: try context.parameter("id"), by: try context.requireAuth())
        return Response(status: .noContent)
    }

    // MARK: services

    func serviceJSON(_ s: IdentityCatalogService, into w: inout JSONWriter) {
        w.object { o in
            o.field("id", s.id)
            o.field("type", s.type)
            o.field("name", s.name)
            o.field("enabled", s.enabled)
            o.field("description", s.description)
            o.links(self: "\(base)/services/\(s.id)")
        }
    }

    func catalogService(_ s: IdentityCatalogService, status: HTTPResponse.Status = .ok) -> Response {
        IdentityResponse.one("service", status: status) { serviceJSON(s, into: &$0) }
    }

    @Sendable func listServices(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let list = try await service.catalogServices(
            by: try context.requireAuth(), type: IdentityResponse.query(request, "type"),
            name: IdentityResponse.query(request, "name"))
        return IdentityResponse.list("services", list, url: base + "/services") { s, w in serviceJSON(s, into: &w) }
    }

    @Sendable func createService(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let s = try await service.createCatalogService(try await body(request, context, "service"), by: try context.requireAuth())
        return catalogService(s, status: .created)
    }

    @Sendable func showService(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        catalogService(try await service.catalogService(id: try context.parameter("id"), by: try context.requireAuth()))
    }

    @Sendable func updateService(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        catalogService(
            try await service.updateCatalogService(
                id: try context.parameter("id"), try await body(request, context, "service"), by: try context.requireAuth()))
    }

    @Sendable func deleteService(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.deleteCatalogService(id: try context.parameter("id"), by: try context.requireAuth())
        return Response(status: .noContent)
    }

    // MARK: endpoints

    func endpointJSON(_ e: IdentityEndpoint, into w: inout JSONWriter) {
        w.object { o in
            o.field("id", e.id)
            o.field("interface", e.interface)
            o.field("region_id", e.regionID)
            o.field("region", e.regionID)
            o.field("service_id", e.serviceID)
            o.field("url", e.url)
            o.field("enabled", e.enabled)
            o.links(self: "\(base)/endpoints/\(e.id)")
        }
    }

    func endpoint(_ e: IdentityEndpoint, status: HTTPResponse.Status = .ok) -> Response {
        IdentityResponse.one("endpoint", status: status) { endpointJSON(e, into: &$0) }
    }

    @Sendable func listEndpoints(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let list = try await service.endpoints(
            by: try context.requireAuth(), interface: IdentityResponse.query(request, "interface"),
            serviceID: IdentityResponse.query(request, "service_id"), regionID: IdentityResponse.query(request, "region_id"))
        return IdentityResponse.list("endpoints", list, url: base + "/endpoints") { e, w in endpointJSON(e, into: &w) }
    }

    @Sendable func createEndpoint(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let e = try await service.createEndpoint(try await body(request, context, "endpoint"), by: try context.requireAuth())
        return endpoint(e, status: .created)
    }

    @Sendable func showEndpoint(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        endpoint(try await service.endpoint(id: try context.parameter("id"), by: try context.requireAuth()))
    }

    @Sendable func updateEndpoint(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        endpoint(
            try await service.updateEndpoint(
                id: try context.parameter("id"), try await body(request, context, "endpoint"), by: try context.requireAuth()))
    }

    @Sendable func deleteEndpoint(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.deleteEndpoint(id: try context.parameter("id"), by: try context.requireAuth())
        return Response(status: .noContent)
    }
}
