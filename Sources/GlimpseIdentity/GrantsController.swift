import GlimpseStorage
import HTTPTypes
import Hummingbird

/// Role grants on one kind of target: `/v3/projects/{id}/users/{user}/roles[/{role}]`, and the same under
/// `/v3/domains/{id}` and `/v3/system`: list, grant (PUT), check (GET/HEAD), revoke (DELETE).
struct GrantsController: Sendable {
    enum Target: Sendable {
        case project
        case domain
        case system
    }

    let service: IdentityService
    let base: String
    let target: Target

    /// The path up to `/users/...`.
    var prefix: String {
        switch target {
        case .project: "projects/:id"
        case .domain: "domains/:id"
        case .system: "system"
        }
    }

    func addRoutes(to v3: RouterGroup<IdentityRequestContext>) {
        v3.get("\(prefix)/users/:user/roles", use: list)
        v3.put("\(prefix)/users/:user/roles/:role", use: grant)
        v3.get("\(prefix)/users/:user/roles/:role", use: check)
        v3.head("\(prefix)/users/:user/roles/:role", use: check)
        v3.delete("\(prefix)/users/:user/roles/:role", use: revoke)
        v3.get("\(prefix)/groups/:group/roles", use: listGroup)
        v3.put("\(prefix)/groups/:group/roles/:role", use: grantGroup)
        v3.get("\(prefix)/groups/:group/roles/:role", use: checkGroup)
        v3.head("\(prefix)/groups/:group/roles/:role", use: checkGroup)
        v3.delete("\(prefix)/groups/:group/roles/:role", use: revokeGroup)
    }

    func scope(_ context: IdentityRequestContext) throws -> RoleAssignment.Scope {
        switch target {
        case .project: .project(try context.parameter("id"))
        case .domain: .domain(try context.parameter("id"))
        case .system: .system
        }
    }

    /// `links.self` of a grant list.
    static func path(_ scope: RoleAssignment.Scope) -> String {
        switch scope {
        case .project(let id): "/projects/\(id)"
        case .domain(let id): "/domains/\(id)"
        case .system: "/system"
        }
    }

    @Sendable func grant(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.grant(
            try scope(context), userID: try context.parameter("user"), roleID: try context.parameter("role"),
            by: try context.requireAuth())
        return Response(status: .noContent)
    }

    @Sendable func check(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.checkGrant(
            try scope(context), userID: try context.parameter("user"), roleID: try context.parameter("role"),
            by: try context.requireAuth())
        return Response(status: .noContent)
    }

    @Sendable func revoke(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.revokeGrant(
            try scope(context), userID: try context.parameter("user"), roleID: try context.parameter("role"),
            by: try context.requireAuth())
        return Response(status: .noContent)
    }

    @Sendable func list(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let scope = try scope(context)
        let user = try context.parameter("user")
        let roles = try await service.grants(scope, userID: user, by: try context.requireAuth())
        return IdentityResponse.list("roles", roles, url: base + Self.path(scope) + "/users/\(user)/roles") { r, w in
            IdentityJSON.role(r, into: &w, base: base)
        }
    }

    // MARK: groups

    @Sendable func grantGroup(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.grant(
            try scope(context), groupID: try context.parameter("group"), roleID: try context.parameter("role"),
            by: try context.requireAuth())
        return Response(status: .noContent)
    }

    @Sendable func checkGroup(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.checkGrant(
            try scope(context), groupID: try context.parameter("group"), roleID: try context.parameter("role"),
            by: try context.requireAuth())
        return Response(status: .noContent)
    }

    @Sendable func revokeGroup(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.revokeGrant(
            try scope(context), groupID: try context.parameter("group"), roleID: try context.parameter("role"),
            by: try context.requireAuth())
        return Response(status: .noContent)
    }

    @Sendable func listGroup(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let scope = try scope(context)
        let group = try context.parameter("group")
        let roles = try await service.grants(scope, groupID: group, by: try context.requireAuth())
        return IdentityResponse.list("roles", roles, url: base + Self.path(scope) + "/groups/\(group)/roles") { r, w in
            IdentityJSON.role(r, into: &w, base: base)
        }
    }
}
