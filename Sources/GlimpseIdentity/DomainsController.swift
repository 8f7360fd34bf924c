import GlimpseHTTP
import GlimpseStorage
import HTTPTypes
import Hummingbird

/// `/v3/domains`: list, show, create, update and delete.
struct DomainsController: Sendable {
    let service: IdentityService
    let base: String

    func addRoutes(to v3: RouterGroup<IdentityRequestContext>) {
        v3.get("domains", use: list)
        v3.post("domains", use: create)
        v3.get("domains/:id", use: show)
        v3.patch("domains/:id", use: update)
        v3.delete("domains/:id", use: delete)
    }

    func one(_ d: IdentityDomain, status: HTTPResponse.Status = .ok) -> Response {
        IdentityResponse.one("domain", status: status) { IdentityJSON.domain(d, into: &$0, base: base) }
    }

    @Sendable func list(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let domains = try await service.domains(
            by: try context.requireAuth(), name: IdentityResponse.query(request, "name"),
            enabled: IdentityInput.enabledFilter(IdentityResponse.query(request, "enabled")))
        return IdentityResponse.list("domains", domains, url: base + "/domains") { d, w in
            IdentityJSON.domain(d, into: &w, base: base)
        }
    }

    @Sendable func show(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        one(try await service.domain(id: try context.parameter("id"), by: try context.requireAuth()))
    }

    @Sendable func create(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try IdentityInput.object(try await request.decodeJSONObject(context: context.glimpse), "domain")
        return one(try await service.createDomain(body, by: try context.requireAuth()), status: .created)
    }

    @Sendable func update(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try IdentityInput.object(try await request.decodeJSONObject(context: context.glimpse), "domain")
        return one(try await service.updateDomain(id: try context.parameter("id"), body, by: try context.requireAuth()))
    }

    @Sendable func delete(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.deleteDomain(id: try context.parameter("id"), by: try context.requireAuth())
        return Response(status: .noContent)
    }
}
