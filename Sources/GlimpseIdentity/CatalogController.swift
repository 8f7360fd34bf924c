import GlimpseCore
import GlimpseHTTP
import Hummingbird

/// The read-only catalog administration: `/v3/services`, `/v3/endpoints`, `/v3/regions`.
struct CatalogController: Sendable {
    let service: IdentityService
    let catalog: ServiceCatalog
    let base: String

    func addRoutes(to v3: RouterGroup<IdentityRequestContext>) {
        v3.get("services", use: listServices)
        v3.get("services/:id", use: showService)
        v3.get("endpoints", use: listEndpoints)
        v3.get("regions", use: listRegions)
        v3.get("regions/:id", use: showRegion)
    }

    func serviceJSON(_ s: ServiceCatalog.Service, into w: inout JSONWriter) {
        w.object { o in
            o.field("id", s.id)
            o.field("type", s.type)
            o.field("name", s.name)
            o.field("enabled", true)
            o.field("description", "")
            o.links(self: "\(base)/services/\(s.id)")
        }
    }

    @Sendable func listServices(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try IdentityPolicy.requireReader(try context.requireAuth(), "list_services")
        var services = catalog.services
        if let t = IdentityResponse.query(request, "type") { services = services.filter { $0.type == t } }
        if let n = IdentityResponse.query(request, "name") { services = services.filter { $0.name == n } }
        return IdentityResponse.list("services", services, url: base + "/services") { s, w in serviceJSON(s, into: &w) }
    }

    @Sendable func showService(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try IdentityPolicy.requireReader(try context.requireAuth(), "get_service")
        let id = try context.parameter("id")
        guard let s = catalog.services.first(where: { $0.id == id }) else {
            throw GlimpseError.notFound("Could not find service: \(id).")
        }
        return IdentityResponse.one("service") { serviceJSON(s, into: &$0) }
    }

    @Sendable func listEndpoints(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try IdentityPolicy.requireReader(try context.requireAuth(), "list_endpoints")
        let iface = IdentityResponse.query(request, "interface")
        let sid = IdentityResponse.query(request, "service_id")
        let region = IdentityResponse.query(request, "region_id")
        return IdentityResponse.json { w in
            w.object { o in
                o.field("endpoints", array: { a in
                    for s in catalog.services where sid == nil || sid == s.id {
                        for i in ServiceCatalog.interfaces where iface == nil || iface == i {
                            guard region == nil || region == catalog.region else { continue }
                            a.object { e in
                                e.field("id", ServiceCatalog.endpointID(s, i))
                                e.field("interface", i)
                                e.field("region_id", catalog.region)
                                e.field("region", catalog.region)
                                e.field("service_id", s.id)
                                e.field("url", s.url)
                                e.field("enabled", true)
                                e.links(self: "\(base)/endpoints/\(ServiceCatalog.endpointID(s, i))")
                            }
                        }
                    }
                })
                o.listLinks(base + "/endpoints")
            }
        }
    }

    func regionJSON(into w: inout JSONWriter) {
        w.object { r in
            r.field("id", catalog.region)
            r.field("description", "")
            r.key("parent_region_id")
            r.null()
            r.links(self: "\(base)/regions/\(catalog.region)")
        }
    }

    /// Any authenticated caller may read regions.
    @Sendable func listRegions(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        IdentityResponse.json { w in
            w.object { o in
                o.field("regions", array: { a in regionJSON(into: &a) })
                o.listLinks(base + "/regions")
            }
        }
    }

    @Sendable func showRegion(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let id = try context.parameter("id")
        guard id == catalog.region else { throw GlimpseError.notFound("Could not find region: \(id).") }
        return IdentityResponse.one("region") { regionJSON(into: &$0) }
    }
}
