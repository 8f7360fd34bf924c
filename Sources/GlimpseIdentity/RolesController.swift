import GlimpseHTTP
import GlimpseStorage
import HTTPTypes
import Hummingbird

/// `/v3/roles` and `/v3/role_assignments` (grants are `GrantsController`).
struct RolesController: Sendable {
    let service: IdentityService
    let base: String

    func addRoutes(to v3: RouterGroup<IdentityRequestContext>) {
        v3.get("roles", use: list)
        v3.post("roles", use: create)
        v3.get("roles/:id", use: show)
        v3.patch("roles/:id", use: update)
        v3.delete("roles/:id", use: delete)
        v3.get("role_assignments", use: assignments)
    }

    func one(_ r: IdentityRole, status: HTTPResponse.Status = .ok) -> Response {
        IdentityResponse.one("role", status: status) { IdentityJSON.role(r, into: &$0, base: base) }
    }

    func roles(_ roles: [IdentityRole], url: String) -> Response {
        IdentityResponse.list("roles", roles, url: url) { r, w in IdentityJSON.role(r, into: &w, base: base) }
    }

    @Sendable func list(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        roles(
            try await service.roles(
                by: try context.requireAuth(), name: IdentityResponse.query(request, "name"),
                domainID: IdentityResponse.query(request, "domain_id")),
            url: base + "/roles")
    }

    @Sendable func show(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        one(try await service.role(id: try context.parameter("id"), by: try context.requireAuth()))
    }

    @Sendable func create(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try IdentityInput.object(try await request.decodeJSONObject(context: context.glimpse), "role")
        return one(try await service.createRole(body, by: try context.requireAuth()), status: .created)
    }

    @Sendable func update(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try IdentityInput.object(try await request.decodeJSONObject(context: context.glimpse), "role")
        return one(try await service.updateRole(id: try context.parameter("id"), body, by: try context.requireAuth()))
    }

    @Sendable func delete(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.deleteRole(id: try context.parameter("id"), by: try context.requireAuth())
        return Response(status: .noContent)
    }

    // MARK: role_assignments

    @Sendable func assignments(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let q = request.uri.queryParameters
        let query = IdentityService.AssignmentQuery(
            userID: IdentityResponse.query(request, "user.id"),
            projectID: IdentityResponse.query(request, "scope.project.id"),
            domainID: IdentityResponse.query(request, "scope.domain.id"),
            system: IdentityResponse.query(request, "scope.system") == "all",
            roleID: IdentityResponse.query(request, "role.id"), effective: q.has("effective"),
            includeNames: q.has("include_names"), groupID: IdentityResponse.query(request, "group.id"))
        let report = try await service.roleAssignments(query, by: try context.requireAuth())
        return IdentityResponse.json { w in
            w.object { o in
                o.field("role_assignments", array: { arr in
                    for a in report.assignments {
                        IdentityJSON.assignment(a, report, names: query.includeNames, into: &arr, base: base)
                    }
                })
                o.listLinks(base + "/role_assignments")
            }
        }
    }
}
