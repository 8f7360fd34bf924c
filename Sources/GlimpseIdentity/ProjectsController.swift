import GlimpseHTTP
import GlimpseStorage
import HTTPTypes
import Hummingbird

/// `/v3/projects`: list, create, show, update and delete.
struct ProjectsController: Sendable {
    let service: IdentityService
    let base: String

    func addRoutes(to v3: RouterGroup<IdentityRequestContext>) {
        v3.get("projects", use: list)
        v3.post("projects", use: create)
        v3.get("projects/:id", use: show)
        v3.patch("projects/:id", use: update)
        v3.delete("projects/:id", use: delete)
    }

    func one(_ p: IdentityProject, status: HTTPResponse.Status = .ok) -> Response {
        IdentityResponse.one("project", status: status) { IdentityJSON.project(p, into: &$0, base: base) }
    }

    @Sendable func list(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let projects = try await service.projects(
            by: try context.requireAuth(), name: IdentityResponse.query(request, "name"),
            domainID: IdentityResponse.query(request, "domain_id"),
            enabled: IdentityInput.enabledFilter(IdentityResponse.query(request, "enabled")))
        return IdentityResponse.list("projects", projects, url: base + "/projects") { p, w in
            IdentityJSON.project(p, into: &w, base: base)
        }
    }

    @Sendable func create(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try IdentityInput.object(try await request.decodeJSONObject(context: context.glimpse), "project")
        return one(try await service.createProject(body, by: try context.requireAuth()), status: .created)
    }

    @Sendable func show(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        one(try await service.project(id: try context.parameter("id"), by: try context.requireAuth()))
    }

    @Sendable func update(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try IdentityInput.object(try await request.decodeJSONObject(context: context.glimpse), "project")
        return one(try await service.updateProject(id: try context.parameter("id"), body, by: try context.requireAuth()))
    }

    @Sendable func delete(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.deleteProject(id: try context.parameter("id"), by: try context.requireAuth())
        return Response(status: .noContent)
    }
}
