import Foundation
import GlimpseCore
import HTTPTypes
import Testing

// Groups through HTTP: CRUD and its errors, membership, grants to groups and what they give members' tokens and
// the role_assignments report.
@Suite("Identity groups")
struct GroupTests {
    @Test("create, show, list, update, delete a group; bad and duplicate names; unknown ids are 404")
    func crud() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let made = try await c.call(
                .post, "/identity/v3/groups", token: admin, json: #"{"group":{"name":"ops","description":"on call","color":"red"}}"#)
            #expect(made.status == .created, "\(made)")
            let gid = try #require(made.json["group"]?["id"]?.str)
            #expect(made.json["group"]?["domain_id"]?.str == "default")
            #expect(made.json["group"]?["color"]?.str == "red")
            let dup = try await c.call(.post, "/identity/v3/groups", token: admin, json: #"{"group":{"name":"ops"}}"#)
            #expect(dup.status == .conflict)
            let long = String(repeating: "g", count: 65)
            let bad = try await c.call(.post, "/identity/v3/groups", token: admin, json: #"{"group":{"name":"\#(long)"}}"#)
            #expect(bad.status == .badRequest)
            #expect(bad.json["error"]?["code"] == .int(400))

            let patched = try await c.call(
                .patch, "/identity/v3/groups/\(gid)", token: admin, json: #"{"group":{"name":"sre"}}"#)
            #expect(patched.status == .ok, "\(patched)")
            #expect(patched.json["group"]?["name"]?.str == "sre")
            #expect(patched.json["group"]?["description"]?.str == "on call")
            let shown = try await c.call(.get, "/identity/v3/groups/\(gid)", token: admin)
            #expect(shown.json["group"]?["name"]?.str == "sre")
            let listed = try await c.call(.get, "/identity/v3/groups?name=sre", token: admin)
            #expect(listed.json["groups"]?.list.compactMap { $0["id"]?.str } == [gid])

            #expect(try await c.call(.delete, "/identity/v3/groups/\(gid)", token: admin).status == .noContent)
            #expect(try await c.call(.get, "/identity/v3/groups/\(gid)", token: admin).status == .notFound)
            #expect(try await c.call(.delete, "/identity/v3/groups/\(gid)", token: admin).status == .notFound)
        }
    }

    @Test("members: add, check, list, a user's groups, remove; members hold the group's roles in their tokens")
    func membersAndGrants() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let (pid, _) = try await c.makeTenant("crew", password: "crew-pw", roles: ["member"], admin: admin)
            let u = try await c.call(
                .post, "/identity/v3/users", token: admin, json: #"{"user":{"name":"newbie","password":"newbie-pw"}}"#)
            let uid = try #require(u.json["user"]?["id"]?.str)
            let g = try await c.call(.post, "/identity/v3/groups", token: admin, json: #"{"group":{"name":"crew-members"}}"#)
            let gid = try #require(g.json["group"]?["id"]?.str)
            let member = "/identity/v3/groups/\(gid)/users/\(uid)"
            #expect(try await c.call(.head, member, token: admin).status == .notFound)
            #expect(try await c.call(.put, member, token: admin).status == .noContent)
            #expect(try await c.call(.head, member, token: admin).status == .noContent)
            let users = try await c.call(.get, "/identity/v3/groups/\(gid)/users", token: admin)
            #expect(users.json["users"]?.list.compactMap { $0["id"]?.str } == [uid])
            let mine = try await c.call(.get, "/identity/v3/users/\(uid)/groups", token: admin)
            #expect(mine.json["groups"]?.list.compactMap { $0["id"]?.str } == [gid])

            // No role yet: the user cannot scope to the project.
            #expect(try await c.login("newbie", "newbie-pw", project: "crew").status == .unauthorized)
            let member_ = try await SystemScopeTests.roleID(c, "member", admin: admin)
            let grant = "/identity/v3/projects/\(pid)/groups/\(gid)/roles/\(member_)"
            #expect(try await c.call(.put, grant, token: admin).status == .noContent)
            #expect(try await c.call(.head, grant, token: admin).status == .noContent)
            let roles = try await c.call(.get, "/identity/v3/projects/\(pid)/groups/\(gid)/roles", token: admin)
            #expect(roles.json["roles"]?.list.compactMap { $0["name"]?.str } == ["member"])
            let login = try await c.login("newbie", "newbie-pw", project: "crew")
            #expect(login.status == .created, "\(login)")
            // member implies reader
            #expect(Set(login.json["token"]?["roles"]?.list.compactMap { $0["name"]?.str } ?? []) == ["member", "reader"])

            // role_assignments: the group's grant, and effective, the member's role through the group.
            let direct = try await c.call(.get, "/identity/v3/role_assignments?group.id=\(gid)", token: admin)
            let row = direct.json["role_assignments"]?.list.first
            #expect(row?["group"]?["id"]?.str == gid)
            #expect(row?["scope"]?["project"]?["id"]?.str == pid)
            let effective = try await c.call(
                .get, "/identity/v3/role_assignments?effective&user.id=\(uid)&scope.project.id=\(pid)", token: admin)
            let rows = effective.json["role_assignments"]?.list ?? []
            #expect(rows.count == 2, "\(effective)")
            #expect(rows.allSatisfy { $0["user"]?["id"]?.str == uid && $0["links"]?["membership"]?.str != nil })
            let ownOnly = try await c.call(.get, "/identity/v3/role_assignments?user.id=\(uid)", token: admin)
            #expect(ownOnly.json["role_assignments"]?.list.isEmpty == true)

            // Leaving the group takes the role away.
            #expect(try await c.call(.delete, member, token: admin).status == .noContent)
            #expect(try await c.call(.delete, member, token: admin).status == .notFound)
            #expect(try await c.login("newbie", "newbie-pw", project: "crew").status == .unauthorized)
            #expect(try await c.call(.delete, grant, token: admin).status == .noContent)
            #expect(try await c.call(.head, grant, token: admin).status == .notFound)
        }
    }

    @Test("only managers change groups; a member may list its own groups")
    func policy() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let (_, uid) = try await c.makeTenant("plain", password: "plain-pw", roles: ["member"], admin: admin)
            let t = try await c.token("plain-user", "plain-pw", project: "plain")
            #expect(try await c.call(.post, "/identity/v3/groups", token: t, json: #"{"group":{"name":"x"}}"#).status == .forbidden)
            let own = try await c.call(.get, "/identity/v3/users/\(uid)/groups", token: t)
            #expect(own.status == .ok)
            #expect(own.json["groups"]?.list.isEmpty == true)
        }
    }
}
