import Foundation
import GlimpseCore
import HTTPTypes
import Testing

// Role updates, inference rules (implied roles) and domain-specific roles through HTTP, and their effect on
// tokens and effective role assignments.
@Suite("Identity role inference and domain roles")
struct RoleInferenceTests {
    static func makeRole(_ c: Cloud, _ json: String, admin: String) async throws -> String {
        let r = try await c.call(.post, "/identity/v3/roles", token: admin, json: json)
        #expect(r.status == .created, "\(r)")
        return try #require(r.json["role"]?["id"]?.str)
    }

    @Test("PATCH a role; PUT, HEAD, GET, list and DELETE an inference rule; the implied role reaches tokens")
    func inference() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let pilot = try await Self.makeRole(c, #"{"role":{"name":"pilot"}}"#, admin: admin)
            let flyer = try await Self.makeRole(c, #"{"role":{"name":"flyer"}}"#, admin: admin)
            let patched = try await c.call(.patch, "/identity/v3/roles/\(flyer)", token: admin, json: #"{"role":{"name":"aviator"}}"#)
            #expect(patched.status == .ok, "\(patched)")
            #expect(try await c.call(.get, "/identity/v3/roles/\(flyer)", token: admin).json["role"]?["name"]?.str == "aviator")
            #expect(try await c.call(.patch, "/identity/v3/roles/\(flyer)", token: admin, json: #"{"role":{"name":"pilot"}}"#).status == .conflict)

            let rule = "/identity/v3/roles/\(pilot)/implies/\(flyer)"
            #expect(try await c.call(.head, rule, token: admin).status == .notFound)
            let made = try await c.call(.put, rule, token: admin)
            #expect(made.status == .created, "\(made)")
            #expect(made.json["role_inference"]?["prior_role"]?["id"]?.str == pilot)
            #expect(made.json["role_inference"]?["implies"]?["name"]?.str == "aviator")
            #expect(try await c.call(.head, rule, token: admin).status == .noContent)
            let listed = try await c.call(.get, "/identity/v3/roles/\(pilot)/implies", token: admin)
            #expect(listed.json["role_inference"]?["implies"]?.list.compactMap { $0["id"]?.str } == [flyer])
            let all = try await c.call(.get, "/identity/v3/role_inferences", token: admin)
            #expect(all.json["role_inferences"]?.list.contains { $0["prior_role"]?["id"]?.str == pilot } == true)

            let (pid, uid) = try await c.makeTenant("hangar", password: "hangar-pw", roles: [], admin: admin)
            #expect(try await c.call(.put, "/identity/v3/projects/\(pid)/users/\(uid)/roles/\(pilot)", token: admin).status == .noContent)
            let login = try await c.login("hangar-user", "hangar-pw", project: "hangar")
            #expect(Set(login.json["token"]?["roles"]?.list.compactMap { $0["name"]?.str } ?? []) == ["pilot", "aviator"])

            #expect(try await c.call(.delete, rule, token: admin).status == .noContent)
            #expect(try await c.call(.get, rule, token: admin).status == .notFound)
            let after = try await c.login("hangar-user", "hangar-pw", project: "hangar")
            #expect(after.json["token"]?["roles"]?.list.compactMap { $0["name"]?.str } == ["pilot"])
        }
    }

    @Test("domain roles: listed by domain_id only, never in tokens; a global role may not imply one (403)")
    func domainRoles() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let local = try await Self.makeRole(c, #"{"role":{"name":"local","domain_id":"default"}}"#, admin: admin)
            let global = try await Self.makeRole(c, #"{"role":{"name":"local"}}"#, admin: admin)
            let byDomain = try await c.call(.get, "/identity/v3/roles?domain_id=default", token: admin)
            #expect(byDomain.json["roles"]?.list.compactMap { $0["id"]?.str } == [local])
            #expect(byDomain.json["roles"]?.list.first?["domain_id"]?.str == "default")
            let globals = try await c.call(.get, "/identity/v3/roles", token: admin)
            #expect(globals.json["roles"]?.list.contains { $0["id"]?.str == local } == false)

            #expect(try await c.call(.put, "/identity/v3/roles/\(global)/implies/\(local)", token: admin).status == .forbidden)
            let (pid, uid) = try await c.makeTenant("shop", password: "shop-pw", roles: ["member"], admin: admin)
            #expect(try await c.call(.put, "/identity/v3/projects/\(pid)/users/\(uid)/roles/\(local)", token: admin).status == .noContent)
            let effective = try await c.call(
                .get, "/identity/v3/role_assignments?effective&user.id=\(uid)&scope.project.id=\(pid)", token: admin)
            let roles = Set(effective.json["role_assignments"]?.list.compactMap { $0["role"]?["id"]?.str } ?? [])
            #expect(!roles.contains(local))
            #expect(try await c.call(.put, "/identity/v3/roles/\(local)/implies/\(global)", token: admin).status == .created)
            let login = try await c.login("shop-user", "shop-pw", project: "shop")
            let names = login.json["token"]?["roles"]?.list.compactMap { $0["id"]?.str } ?? []
            #expect(names.contains(global) && !names.contains(local))
        }
    }

    @Test("group grants on the system: members get system tokens; role_assignments shows the group's grant")
    func groupSystemGrant() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let (_, uid) = try await c.makeTenant("ops", password: "ops-pw", roles: ["member"], admin: admin)
            let g = try await c.call(.post, "/identity/v3/groups", token: admin, json: #"{"group":{"name":"auditors"}}"#)
            let gid = try #require(g.json["group"]?["id"]?.str)
            #expect(try await c.call(.put, "/identity/v3/groups/\(gid)/users/\(uid)", token: admin).status == .noContent)
            let reader = try await SystemScopeTests.roleID(c, "reader", admin: admin)
            let grant = "/identity/v3/system/groups/\(gid)/roles/\(reader)"
            #expect(try await c.call(.put, grant, token: admin).status == .noContent)
            #expect(try await c.call(.head, grant, token: admin).status == .noContent)
            let listed = try await c.call(.get, "/identity/v3/role_assignments?scope.system=all&group.id=\(gid)", token: admin)
            #expect(listed.json["role_assignments"]?.list.first?["scope"]?["system"]?["all"] == .bool(true))
            let login = try await c.call(
                .post, "/identity/v3/auth/tokens", json: SystemScopeTests.passwordBody("ops-user", "ops-pw", scope: SystemScopeTests.systemScope))
            #expect(login.status == .created, "\(login)")
            #expect(login.json["token"]?["system"]?["all"] == .bool(true))
        }
    }
}
