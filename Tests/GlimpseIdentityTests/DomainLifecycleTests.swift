import Foundation
import GlimpseCore
import HTTPTypes
import Testing

// Domains through HTTP: update, the name rules, and deletion (only when disabled) taking its content along.
@Suite("Identity domain lifecycle")
struct DomainLifecycleTests {
    @Test("names: over 64 characters is 400, a duplicate is 409; PATCH renames and disables")
    func names() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let long = String(repeating: "d", count: 65)
            let bad = try await c.call(.post, "/identity/v3/domains", token: admin, json: #"{"domain":{"name":"\#(long)"}}"#)
            #expect(bad.status == .badRequest)
            #expect(bad.json["error"]?["code"] == .int(400))
            let d = try await c.call(.post, "/identity/v3/domains", token: admin, json: #"{"domain":{"name":"acme"}}"#)
            let did = try #require(d.json["domain"]?["id"]?.str)
            #expect(try await c.call(.post, "/identity/v3/domains", token: admin, json: #"{"domain":{"name":"acme"}}"#).status == .conflict)
            let patched = try await c.call(
                .patch, "/identity/v3/domains/\(did)", token: admin, json: #"{"domain":{"name":"acme2","enabled":false}}"#)
            #expect(patched.status == .ok, "\(patched)")
            #expect(patched.json["domain"]?["name"]?.str == "acme2")
            #expect(patched.json["domain"]?["enabled"] == .bool(false))
            #expect(try await c.call(.patch, "/identity/v3/domains/default", token: admin, json: #"{"domain":{"enabled":false}}"#).status == .forbidden)
        }
    }

    @Test("delete: an enabled domain is 403; a disabled one goes with its projects, users and groups; its users' tokens end")
    func delete() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let d = try await c.call(.post, "/identity/v3/domains", token: admin, json: #"{"domain":{"name":"doomed"}}"#)
            let did = try #require(d.json["domain"]?["id"]?.str)
            let p = try await c.call(.post, "/identity/v3/projects", token: admin, json: #"{"project":{"name":"p1","domain_id":"\#(did)"}}"#)
            let pid = try #require(p.json["project"]?["id"]?.str)
            let u = try await c.call(
                .post, "/identity/v3/users", token: admin, json: #"{"user":{"name":"u1","password":"u1-pw","domain_id":"\#(did)"}}"#)
            let uid = try #require(u.json["user"]?["id"]?.str)
            let g = try await c.call(.post, "/identity/v3/groups", token: admin, json: #"{"group":{"name":"g1","domain_id":"\#(did)"}}"#)
            let gid = try #require(g.json["group"]?["id"]?.str)
            let member = try await SystemScopeTests.roleID(c, "member", admin: admin)
            #expect(try await c.call(.put, "/identity/v3/projects/\(pid)/users/\(uid)/roles/\(member)", token: admin).status == .noContent)
            let login = try await c.call(
                .post, "/identity/v3/auth/tokens",
                json: #"{"auth":{"identity":{"methods":["password"],"password":{"user":{"id":"\#(uid)","password":"u1-pw"}}},"scope":{"project":{"id":"\#(pid)"}}}}"#)
            #expect(login.status == .created, "\(login)")
            let t = try #require(login.header("X-Subject-Token"))

            #expect(try await c.call(.delete, "/identity/v3/domains/\(did)", token: admin).status == .forbidden)
            #expect(try await c.call(.patch, "/identity/v3/domains/\(did)", token: admin, json: #"{"domain":{"enabled":false}}"#).status == .ok)
            #expect(try await c.call(.get, "/identity/v3/auth/tokens", token: admin, headers: [HTTPField.Name("X-Subject-Token")!: t]).status == .notFound)
            #expect(try await c.call(.delete, "/identity/v3/domains/\(did)", token: admin).status == .noContent)
            #expect(try await c.call(.get, "/identity/v3/domains/\(did)", token: admin).status == .notFound)
            #expect(try await c.call(.get, "/identity/v3/projects/\(pid)", token: admin).status == .notFound)
            #expect(try await c.call(.get, "/identity/v3/users/\(uid)", token: admin).status == .notFound)
            #expect(try await c.call(.get, "/identity/v3/groups/\(gid)", token: admin).status == .notFound)
            #expect(try await c.call(.delete, "/identity/v3/domains/\(did)", token: admin).status == .notFound)
        }
    }
}
