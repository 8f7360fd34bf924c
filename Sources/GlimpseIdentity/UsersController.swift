import GlimpseCore
import GlimpseHTTP
import GlimpseStorage
import HTTPTypes
import Hummingbird

/// `/v3/users`: list, create, show, update, delete, the user's projects and the self-service password change.
struct UsersController: Sendable {
    let service: IdentityService
    let base: String

    func addRoutes(to v3: RouterGroup<IdentityRequestContext>) {
        v3.get("users", use: list)
        v3.post("users", use: create)
        v3.get("users/:id", use: show)
        v3.patch("users/:id", use: update)
        v3.delete("users/:id", use: delete)
        v3.get("users/:id/projects", use: projects)
    }

    /// Routes that carry their own credential (the original password) instead of a token.
    func addOpenRoutes(to v3: RouterGroup<IdentityRequestContext>) {
        v3.post("users/:id/password", use: changePassword)
    }

    func one(_ u: IdentityUser, status: HTTPResponse.Status = .ok) -> Response {
        IdentityResponse.one("user", status: status) { IdentityJSON.user(u, into: &$0, base: base) }
    }

    @Sendable func list(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let users = try await service.users(
            by: try context.requireAuth(), name: IdentityResponse.query(request, "name"),
            domainID: IdentityResponse.query(request, "domain_id"),
            enabled: IdentityInput.enabledFilter(IdentityResponse.query(request, "enabled")))
        return IdentityResponse.list("users", users, url: base + "/users") { u, w in IdentityJSON.user(u, into: &w, base: base) }
    }

    @Sendable func create(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try IdentityInput.object(try await request.decodeJSONObject(context: context.glimpse), "user")
        return one(try await service.createUser(body, by: try context.requireAuth()), status: .created)
    }

    @Sendable func show(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        one(try await service.user(id: try context.parameter("id"), by: try context.requireAuth()))
    }

    @Sendable func update(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try IdentityInput.object(try await request.decodeJSONObject(context: context.glimpse), "user")
        return one(try await service.updateUser(id: try context.parameter("id"), body, by: try context.requireAuth()))
    }

    @Sendable func delete(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.deleteUser(id: try context.parameter("id"), by: try context.requireAuth())
        return Response(status: .noContent)
    }

    @Sendable func projects(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let id = try context.parameter("id")
        let projects = try await service.projects(ofUser: id, by: try context.requireAuth())
        return IdentityResponse.list("projects", projects, url: base + "/users/\(id)/projects") { p, w in
            IdentityJSON.project(p, into: &w, base: base)
        }
    }

    @Sendable func changePassword(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try IdentityInput.object(try await request.decodeJSONObject(context: context.glimpse), "user")
        guard let original = IdentityInput.string(body, "original_password"), let new = IdentityInput.string(body, "password")
        else { throw GlimpseError.badRequest("Invalid input: 'password' and 'original_password' are required.") }
        try await service.changePassword(userID: try context.parameter("id"), original: original, new: new)
        return Response(status: .noContent)
    }
}
