import GlimpseHTTP
import GlimpseStorage
import HTTPTypes
import Hummingbird

/// Role inference rules: `/v3/roles/{prior}/implies[/{implied}]` (PUT 201, GET, HEAD, DELETE) and
/// `/v3/role_inferences`. A single rule's `implies` is an object; a list's is an array, as in Keystone.
struct RoleInferencesController: Sendable {
    let service: IdentityService
    let base: String

    func addRoutes(to v3: RouterGroup<IdentityRequestContext>) {
        v3.get("roles/:id/implies", use: list)
        v3.put("roles/:id/implies/:implied", use: create)
        v3.get("roles/:id/implies/:implied", use: show)
        v3.head("roles/:id/implies/:implied", use: check)
        v3.delete("roles/:id/implies/:implied", use: delete)
        v3.get("role_inferences", use: all)
    }

    func brief(_ r: IdentityRole, into w: inout JSONWriter) {
        w.object { o in
            o.field("id", r.id)
            o.field("name", r.name)
            o.links(self: "\(base)/roles/\(r.id)")
        }
    }

    func inference(_ i: IdentityService.RoleInference, single: Bool, into w: inout JSONWriter) {
        w.object { o in
            o.key("prior_role")
            brief(i.prior, into: &o)
            if single, let implied = i.implies.first {
                o.key("implies")
                brief(implied, into: &o)
            } else {
                o.field("implies", array: { a in for r in i.implies { brief(r, into: &a) } })
            }
        }
    }

    func answer(_ i: IdentityService.RoleInference, single: Bool, status: HTTPResponse.Status = .ok) -> Response {
        IdentityResponse.json(status) { w in
            w.object { o in
                o.key("role_inference")
                inference(i, single: single, into: &o)
                o.links(self: "\(base)/roles/\(i.prior.id)/implies")
            }
        }
    }

    @Sendable func create(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let i = try await service.createInference(
            prior: try context.parameter("id"), implied: try context.parameter("implied"), by: try context.requireAuth())
        return answer(i, single: true, status: .created)
    }

    @Sendable func show(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let i = try await service.inference(
            prior: try context.parameter("id"), implied: try context.parameter("implied"), by: try context.requireAuth())
        return answer(i, single: true)
    }

    @Sendable func check(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        _ = try await service.inference(
            prior: try context.parameter("id"), implied: try context.parameter("implied"), by: try context.requireAuth())
        return Response(status: .noContent)
    }

    @Sendable func delete(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.deleteInference(
            prior: try context.parameter("id"), implied: try context.parameter("implied"), by: try context.requireAuth())
        return Response(status: .noContent)
    }

    @Sendable func list(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        answer(try await service.inferences(prior: try context.parameter("id"), by: try context.requireAuth()), single: false)
    }

    @Sendable func all(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let rules = try await service.allInferences(by: try context.requireAuth())
        return IdentityResponse.json { w in
            w.object { o in
                o.field("role_inferences", array: { a in for i in rules { inference(i, single: false, into: &a) } })
                o.links(self: "\(base)/role_inferences")
            }
        }
    }
}
