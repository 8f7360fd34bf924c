import GlimpseCore
import GlimpseHTTP
import GlimpseStorage
import HTTPTypes
import Hummingbird

/// `/v3/groups`: list, create, show, update, delete; members (`/v3/groups/{id}/users[/{user}]`) and a user's
/// groups (`/v3/users/{id}/groups`). Grants to groups are `GrantsController`'s.
struct GroupsController: Sendable {
    let service: IdentityService
    let base: String

    func addRoutes(to v3: RouterGroup<IdentityRequestContext>) {
        v3.get("groups", use: list)
        v3.post("groups", use: create)
        v3.get("groups/:id", use: show)
        v3.patch("groups/:id", use: update)
        v3.delete("groups/:id", use: delete)
        v3.get("groups/:id/users", use: members)
        v3.put("groups/:id/users/:user", use: addMember)
        v3.get("groups/:id/users/:user", use: checkMember)
        v3.head("groups/:id/users/:user", use: checkMember)
        v3.delete("groups/:id/users/:user", use: removeMember)
        v3.get("users/:id/groups", use: userGroups)
    }

    func one(_ g: IdentityGroup, status: HTTPResponse.Status = .ok) -> Response {
        IdentityResponse.one("group", status: status) { IdentityJSON.group(g, into: &$0, base: base) }
    }

    func groups(_ groups: [IdentityGroup], url: String) -> Response {
        IdentityResponse.list("groups", groups, url: url) { g, w in IdentityJSON.group(g, into: &w, base: base) }
    }

    @Sendable func list(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        groups(
            try await service.groups(
                by: try context.requireAuth(), name: IdentityResponse.query(request, "name"),
                domainID: IdentityResponse.query(request, "domain_id")),
            url: base + "/groups")
    }

    @Sendable func create(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try IdentityInput.object(try await request.decodeJSONObject(context: context.glimpse), "group")
        return one(try await service.createGroup(body, by: try context.requireAuth()), status: .created)
    }

    @Sendable func show(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        one(try await service.group(id: try context.parameter("id"), by: try context.requireAuth()))
    }

    @Sendable func update(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try IdentityInput.object(try await request.decodeJSONObject(context: context.glimpse), "group")
        return one(try await service.updateGroup(id: try context.parameter("id"), body, by: try context.requireAuth()))
    }

    @Sendable func delete(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.deleteGroup(id: try context.parameter("id"), by: try context.requireAuth())
        return Response(status: .noContent)
    }

    @Sendable func members(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let id = try context.parameter("id")
        let users = try await service.members(groupID: id, by: try context.requireAuth())
        return IdentityResponse.list("users", users, url: base + "/groups/\(id)/users") { u, w in
            IdentityJSON.user(u, into: &w, base: base)
        }
    }

    @Sendable func addMember(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.addMember(
            groupID: try context.parameter("id"), userID: try context.parameter("user"), by: try context.requireAuth())
        return Response(status: .noContent)
    }

    @Sendable func checkMember(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.checkMember(
            groupID: try context.parameter("id"), userID: try context.parameter("user"), by: try context.requireAuth())
        return Response(status: .noContent)
    }

    @Sendable func removeMember(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        try await service.removeMember(
            groupID: try context.parameter("id"), userID: try context.parameter("user"), by: try context.requireAuth())
        return Response(status: .noContent)
    }

    @Sendable func userGroups(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let id = try context.parameter("id")
        return groups(try await service.groups(ofUser: id, by: try context.requireAuth()), url: base + "/users/\(id)/groups")
    }
}
