import GlimpseCore
import GlimpseHTTP
import GlimpseStorage
import HTTPTypes
import Hummingbird

/// `/v3/users/{id}/credentials/OS-EC2[/{access}]`: create (201), list, show, delete.
struct EC2CredentialsController: Sendable {
    let service: IdentityService
    let base: String

    func addRoutes(to v3: RouterGroup<IdentityRequestContext>) {
        v3.post("users/:id/credentials/OS-EC2", use: create)
        v3.get("users/:id/credentials/OS-EC2", use: list)
        v3.get("users/:id/credentials/OS-EC2/:access", use: show)
        v3.delete("users/:id/credentials/OS-EC2/:access", use: delete)
    }

    func write(_ c: IdentityService.EC2Credential, into w: inout JSONWriter) {
        w.object { o in
            o.field("user_id", c.userID)
            o.field("tenant_id", c.projectID)
            o.field("access", c.access)
            o.field("secret", c.secret)
            o.key("trust_id")
            o.null()
            o.links(self: "\(base)/users/\(c.userID)/credentials/OS-EC2/\(c.access)")
        }
    }

    @Sendable func create(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try await request.decodeJSONObject(context: context.glimpse)
        let c = try await service.createEC2Credential(userID: try context.parameter("id"), body, by: try context.requireAuth())
        return IdentityResponse.one("credential", status: .created) { write(c, into: &$0) }
    }

    @Sendable func list(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let id = try context.parameter("id")
        let list = try await service.ec2Credentials(userID: id, by: try context.requireAuth())
        return IdentityResponse.list("credentials", list, url: base + "/users/\(id)/credentials/OS-EC2") { c, w in write(c, into: &w) }
    }

    @Sendable func show(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let c = try await service.ec2Credential(
            userID: try context.parameter("id"), access: try context.parameter("access"), by: try context.requireAuth())
        return IdentityResponse.one("credential") { write(c, into: &$0) }
    }

    @Sendable func delete(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.deleteEC2Credential(
            userID: try context.parameter("id"), access: try context.parameter("access"), by: try context.requireAuth())
        return Response(status: .noContent)
    }
}
