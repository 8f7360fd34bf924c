import Foundation
import GlimpseCore
import HTTPTypes
import Testing

// Domain scope: domain grants, domain-scoped tokens, and a domain admin who manages its own domain only.
@Suite("Identity domain scope")
struct DomainScopeTests {
    static func domainLogin(_ user: String, _ password: String, userDomain: String, scope: String) -> String {
        #"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"\#(user)","domain":{"id":"\#(userDomain)"},"password":"\#(password)"}}},"scope":{"domain":\#(scope)}}}"#
    }

    @Test("domain grants and domain-scoped tokens; a domain admin manages its domain's projects and users, not others'")
    func domainAdmin() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let d = try await c.call(.post, "/identity/v3/domains", token: admin, json: #"{"domain":{"name":"acme"}}"#)
            #expect(d.status == .created, "\(d)")
            let did = try #require(d.json["domain"]?["id"]?.str)
            let u = try await c.call(
                .post, "/identity/v3/users", token: admin, json: #"{"user":{"name":"boss","password":"boss-pw","domain_id":"\#(did)"}}"#)
            let uid = try #require(u.json["user"]?["id"]?.str)
            let adminRole = try await SystemScopeTests.roleID(c, "admin", admin: admin)
            let login = Self.domainLogin("boss", "boss-pw", userDomain: did, scope: #"{"id":"\#(did)"}"#)
            #expect(try await c.call(.post, "/identity/v3/auth/tokens", json: login).status == .unauthorized)

            let grant = "/identity/v3/domains/\(did)/users/\(uid)/roles/\(adminRole)"
            #expect(try await c.call(.put, grant, token: admin).status == .noContent)
            #expect(try await c.call(.head, grant, token: admin).status == .noContent)
            let listed = try await c.call(.get, "/identity/v3/domains/\(did)/users/\(uid)/roles", token: admin)
            #expect(listed.json["roles"]?.list.compactMap { $0["name"]?.str } == ["admin"])
            let assignments = try await c.call(.get, "/identity/v3/role_assignments?scope.domain.id=\(did)", token: admin)
            #expect(assignments.json["role_assignments"]?.list.first?["scope"]?["domain"]?["id"]?.str == did)

            let byName = Self.domainLogin("boss", "boss-pw", userDomain: did, scope: #"{"name":"acme"}"#)
            let issued = try await c.call(.post, "/identity/v3/auth/tokens", json: byName)
            #expect(issued.status == .created, "\(issued)")
            #expect(issued.json["token"]?["domain"]?["id"]?.str == did)
            #expect(issued.json["token"]?["project"] == nil)
            let t = try #require(issued.header("X-Subject-Token"))
            let scopable = try await c.call(.get, "/identity/v3/auth/domains", token: t)
            #expect(scopable.json["domains"]?.list.compactMap { $0["name"]?.str } == ["acme"])
            let noSystem = try await c.call(.get, "/identity/v3/auth/system", token: t)
            #expect(noSystem.status == .ok)
            #expect(noSystem.json["system"]?.list.isEmpty == true)

            // Its own domain: create a project and a user, list them.
            let p = try await c.call(.post, "/identity/v3/projects", token: t, json: #"{"project":{"name":"rockets","domain_id":"\#(did)"}}"#)
            #expect(p.status == .created, "\(p)")
            let made = try await c.call(.post, "/identity/v3/users", token: t, json: #"{"user":{"name":"coyote","password":"x"}}"#)
            #expect(made.status == .created, "\(made)")
            #expect(made.json["user"]?["domain_id"]?.str == did)
            let users = try await c.call(.get, "/identity/v3/users", token: t)
            #expect(Set(users.json["users"]?.list.compactMap { $0["name"]?.str } ?? []) == ["boss", "coyote"])
            let projects = try await c.call(.get, "/identity/v3/projects", token: t)
            #expect(projects.json["projects"]?.list.compactMap { $0["name"]?.str } == ["rockets"])

            // It grants roles on its projects to its users.
            let coyote = try #require(made.json["user"]?["id"]?.str)
            let rockets = try #require(p.json["project"]?["id"]?.str)
            let member = try await SystemScopeTests.roleID(c, "member", admin: admin)
            #expect(try await c.call(.put, "/identity/v3/projects/\(rockets)/users/\(coyote)/roles/\(member)", token: t).status == .noContent)
            let coyoteLogin = #"{"auth":{"identity":{"methods":["password"],"password":{"user":{"id":"\#(coyote)","password":"x"}}},"scope":{"project":{"id":"\#(rockets)"}}}}"#
            #expect(try await c.call(.post, "/identity/v3/auth/tokens", json: coyoteLogin).status == .created)

            // The Default domain is not its to manage.
            #expect(try await c.call(.post, "/identity/v3/projects", token: t, json: #"{"project":{"name":"intrude","domain_id":"default"}}"#).status == .forbidden)
            #expect(try await c.call(.get, "/identity/v3/users?domain_id=default", token: t).status == .forbidden)
            let adminProject = try await c.call(.get, "/identity/v3/projects?name=admin", token: admin)
            let apid = try #require(adminProject.json["projects"]?.list.first?["id"]?.str)
            #expect(try await c.call(.delete, "/identity/v3/projects/\(apid)", token: t).status == .forbidden)
            #expect(try await c.call(.put, "/identity/v3/projects/\(apid)/users/\(coyote)/roles/\(member)", token: t).status == .forbidden)
            let adminUser = try await c.call(.get, "/identity/v3/users?name=admin", token: admin)
            let auid = try #require(adminUser.json["users"]?.list.first?["id"]?.str)
            #expect(try await c.call(.delete, "/identity/v3/users/\(auid)", token: t).status == .forbidden)
            #expect(try await c.call(.put, "/identity/v3/system/users/\(uid)/roles/\(adminRole)", token: t).status == .forbidden)
        }
    }
}
