import GlimpseCore
import GlimpseHTTP
import GlimpseStorage
import HTTPTypes
import Hummingbird

/// `/v3/credentials`: list (`user_id`, `type` filters), create, show, update, delete.
struct CredentialsController: Sendable {
    let service: IdentityService
    let base: String

    func addRoutes(to v3: RouterGroup<IdentityRequestContext>) {
        v3.get("credentials", use: list)
        v3.post("credentials", use: create)
        v3.get("credentials/:id", use: show)
        v3.patch("credentials/:id", use: update)
        v3.delete("credentials/:id", use: delete)
    }

    func write(_ c: IdentityCredential, into w: inout JSONWriter) {
        w.object { o in
            o.field("id", c.id)
            o.field("user_id", c.userID)
            o.field("project_id", c.projectID)
            o.field("type", c.type)
            o.field("blob", c.blob)
            o.links(self: "\(base)/credentials/\(c.id)")
        }
    }

    func one(_ c: IdentityCredential, status: HTTPResponse.Status = .ok) -> Response {
        IdentityResponse.one("credential", status: status) { write(c, into: &$0) }
    }

    @Sendable func list(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let list = try await service.credentials(
            by: try context.requireAuth(), userID: IdentityResponse.query(request, "user_id"),
            type: IdentityResponse.query(request, "type"))
        return IdentityResponse.list("credentials", list, url: base + "/credentials") { c, w in write(c, into: &w) }
    }

    @Sendable func create(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try IdentityInput.object(try await request.decodeJSONObject(context: context.glimpse), "credential")
        return one(try await service.createCredential(body, by: try context.requireAuth()), status: .created)
    }

    @Sendable func show(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        one(try await service.credential(id: try context.parameter("id"), by: try context.requireAuth()))
    }

    @Sendable func update(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try IdentityInput.object(try await request.decodeJSONObject(context: context.glimpse), "credential")
        return one(try await service.updateCredential(id: try context.parameter("id"), body, by: try context.requireAuth()))
    }

    @Sendable func delete(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.deleteCredential(id: try context.parameter("id"), by: try context.requireAuth())
        return Response(status: .noContent)
    }
}
