import GlimpseHTTP
import GlimpseStorage
import HTTPTypes
import Hummingbird

/// `/v3/users/{user_id}/application_credentials`: create (the only answer with the secret), list, show, delete.
struct ApplicationCredentialsController: Sendable {
    let service: IdentityService
    let base: String

    func addRoutes(to v3: RouterGroup<IdentityRequestContext>) {
        v3.post("users/:id/application_credentials", use: create)
        v3.get("users/:id/application_credentials", use: list)
        v3.get("users/:id/application_credentials/:credential", use: show)
        v3.delete("users/:id/application_credentials/:credential", use: delete)
    }

    @Sendable func create(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try IdentityInput.object(
            try await request.decodeJSONObject(context: context.glimpse), "application_credential")
        let (c, secret) = try await service.createApplicationCredential(
            userID: try context.parameter("id"), body, by: try context.requireAuth())
        let roles = try await service.roles(of: c)
        return IdentityResponse.one("application_credential", status: .created) { w in
            IdentityJSON.applicationCredential(c, roles: roles, secret: secret, into: &w, base: base)
        }
    }

    @Sendable func list(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let user = try context.parameter("id")
        let list = try await service.applicationCredentials(
            userID: user, name: IdentityResponse.query(request, "name"), by: try context.requireAuth())
        var entries: [(IdentityApplicationCredential, [IdentityRole])] = []
        for c in list { entries.append((c, try await service.roles(of: c))) }
        return IdentityResponse.list("application_credentials", entries, url: base + "/users/\(user)/application_credentials") {
            e, w in IdentityJSON.applicationCredential(e.0, roles: e.1, secret: nil, into: &w, base: base)
        }
    }

    @Sendable func show(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let c = try await service.applicationCredential(
            userID: try context.parameter("id"), id: try context.parameter("credential"), by: try context.requireAuth())
        let roles = try await service.roles(of: c)
        return IdentityResponse.one("application_credential") { w in
            IdentityJSON.applicationCredential(c, roles: roles, secret: nil, into: &w, base: base)
        }
    }

    @Sendable func delete(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.deleteApplicationCredential(
            userID: try context.parameter("id"), id: try context.parameter("credential"), by: try context.requireAuth())
        return Response(status: .noContent)
    }
}
