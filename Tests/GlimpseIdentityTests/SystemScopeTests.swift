import Foundation
import GlimpseCore
import GlimpseIdentity
import GlimpseStorage
import HTTPTypes
import Logging
import Testing

// System scope: system role assignments, system-scoped tokens and the system admin/reader policy.
@Suite("Identity system scope")
struct SystemScopeTests {
    static let systemScope = #""scope":{"system":{"all":true}}"#

    static func passwordBody(_ user: String, _ password: String, scope: String) -> String {
        #"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"\#(user)","domain":{"id":"default"},"password":"\#(password)"}}},\#(scope)}}"#
    }

    static func roleID(_ c: Cloud, _ name: String, admin: String) async throws -> String {
        let roles = try await c.call(.get, "/identity/v3/roles?name=\(name)", token: admin)
        return try #require(roles.json["roles"]?.list.first?["id"]?.str)
    }

    @Test("the bootstrap admin logs in to the system: token.system, roles and catalog, no project; validation agrees")
    func bootstrapAdminSystemToken() async throws {
        try await withCloud { c in
            let login = try await c.call(.post, "/identity/v3/auth/tokens", json: Self.passwordBody("admin", adminPassword, scope: Self.systemScope))
            #expect(login.status == .created, "\(login)")
            let body = try #require(login.json["token"])
            #expect(body["system"]?["all"] == .bool(true))
            #expect(body["project"] == nil)
            let roleNames = Set(body["roles"]?.list.compactMap { $0["name"]?.str } ?? [])
            #expect(roleNames == ["admin", "member", "reader"])
            #expect(!(body["catalog"]?.list.isEmpty ?? true))
            let token = try #require(login.header("X-Subject-Token"))
            let scopable = try await c.call(.get, "/identity/v3/auth/system", token: token)
            #expect(scopable.json["system"]?.list.first?["all"] == .bool(true))
            let check = try await c.call(.get, "/identity/v3/auth/tokens", token: token, headers: [HTTPField.Name("X-Subject-Token")!: token])
            #expect(check.status == .ok)
            #expect(check.json["token"]?["system"]?["all"] == .bool(true))
            #expect(check.json["token"]?["project"] == nil)

            // The system admin administers identity.
            #expect(try await c.call(.get, "/identity/v3/users", token: token).status == .ok)
            let made = try await c.call(.post, "/identity/v3/projects", token: token, json: #"{"project":{"name":"from-system"}}"#)
            #expect(made.status == .created, "\(made)")

            // role_assignments: the system filter and the unfiltered list.
            let system = try await c.call(.get, "/identity/v3/role_assignments?scope.system=all&include_names", token: token)
            #expect(system.status == .ok, "\(system)")
            let entries = system.json["role_assignments"]?.list ?? []
            let allSystem = entries.allSatisfy { $0["scope"]?["system"]?["all"] == .bool(true) }
            #expect(allSystem)
            #expect(entries.contains { $0["user"]?["name"]?.str == "admin" && $0["role"]?["name"]?.str == "admin" })
            let all = try await c.call(.get, "/identity/v3/role_assignments", token: token).json["role_assignments"]?.list ?? []
            #expect(all.contains { $0["scope"]?["system"] != nil })
            #expect(all.contains { $0["scope"]?["project"] != nil })
            let projectOnly = try await c.call(.get, "/identity/v3/role_assignments?scope.project.id=none", token: token)
            #expect(projectOnly.json["role_assignments"]?.list.isEmpty == true)
        }
    }

    @Test("system grants: PUT, HEAD, GET list, DELETE; a system reader reads but does not write; no grant, no system token")
    func systemGrants() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let (_, uid) = try await c.makeTenant("sys", password: "sys-pw", admin: admin)
            let member = try await c.token("sys-user", "sys-pw", project: "sys")
            let reader = try await Self.roleID(c, "reader", admin: admin)
            let login = Self.passwordBody("sys-user", "sys-pw", scope: Self.systemScope)
            #expect(try await c.call(.post, "/identity/v3/auth/tokens", json: login).status == .unauthorized)

            let grant = "/identity/v3/system/users/\(uid)/roles/\(reader)"
            #expect(try await c.call(.put, grant, token: member).status == .forbidden)
            #expect(try await c.call(.head, grant, token: admin).status == .notFound)
            #expect(try await c.call(.put, grant, token: admin).status == .noContent)
            #expect(try await c.call(.head, grant, token: admin).status == .noContent)
            let listed = try await c.call(.get, "/identity/v3/system/users/\(uid)/roles", token: admin)
            #expect(listed.json["roles"]?.list.compactMap { $0["name"]?.str } == ["reader"])

            let systemLogin = try await c.call(.post, "/identity/v3/auth/tokens", json: login)
            #expect(systemLogin.status == .created, "\(systemLogin)")
            #expect(systemLogin.json["token"]?["roles"]?.list.compactMap { $0["name"]?.str } == ["reader"])
            let t = try #require(systemLogin.header("X-Subject-Token"))
            #expect(try await c.call(.get, "/identity/v3/users", token: t).status == .ok)
            #expect(try await c.call(.get, "/identity/v3/projects", token: t).status == .ok)
            #expect(try await c.call(.get, "/identity/v3/role_assignments", token: t).status == .ok)
            #expect(try await c.call(.post, "/identity/v3/users", token: t, json: #"{"user":{"name":"nope"}}"#).status == .forbidden)
            #expect(try await c.call(.put, grant, token: t).status == .forbidden)

            // Rescoping an unscoped token to the system with the token method.
            let unscoped = try #require(try await c.call(
                .post, "/identity/v3/auth/tokens", json: Self.passwordBody("sys-user", "sys-pw", scope: #""scope":"unscoped""#)
            ).header("X-Subject-Token"))
            let rescoped = try await c.call(
                .post, "/identity/v3/auth/tokens",
                json: #"{"auth":{"identity":{"methods":["token"],"token":{"id":"\#(unscoped)"}},\#(Self.systemScope)}}"#)
            #expect(rescoped.status == .created, "\(rescoped)")
            #expect(rescoped.json["token"]?["system"]?["all"] == .bool(true))

            // Without the grant the system token stops working at once.
            #expect(try await c.call(.delete, grant, token: admin).status == .noContent)
            #expect(try await c.call(.get, "/identity/v3/users", token: t).status == .unauthorized)
            #expect(try await c.call(.post, "/identity/v3/auth/tokens", json: login).status == .unauthorized)
        }
    }
}

@Suite("Identity callers")
struct IdentityCallerTests {
    @Test("the caller of a token carries the user and project names and the scope (project, system)")
    func callerScope() async throws {
        try await withCloud { c in
            let project = try await c.adminToken()
            let system = try #require(try await c.call(
                .post, "/identity/v3/auth/tokens",
                json: SystemScopeTests.passwordBody("admin", adminPassword, scope: SystemScopeTests.systemScope)
            ).header("X-Subject-Token"))
            // A second service on the same store validates the tokens as the image and compute APIs do.
            let store = try IdentitySQLiteStore(path: c.dataDirectory + "/identity.sqlite")
            let service = IdentityService(
                store: store, options: IdentityOptions(publicURL: "http://glimpse.test:9292", cacheTTL: .zero),
                logger: Logger(label: "caller-test"))
            let authenticator = BuiltinTokenAuthenticator(service: service)
            let p = try #require(try await authenticator.authenticate([HTTPField.Name("X-Auth-Token")!: project]))
            #expect(p.userName == "admin")
            #expect(p.projectName == "admin")
            #expect(p.scope == .project)
            let s = try #require(try await authenticator.authenticate([HTTPField.Name("X-Auth-Token")!: system]))
            #expect(s.scope == .system)
            #expect(s.projectID == nil)
            #expect(s.userName == "admin")
            #expect(s.roles.contains("admin"))
        }
    }
}

extension IdentityCallerTests {
    @Test("--auth keystone: names and scope come from the token body (Glimpse's own identity plays Keystone)")
    func keystoneCallerScope() async throws {
        try await withCloud { c in
            let port = try #require(c.client.port)
            let project = try await c.adminToken()
            let system = try #require(try await c.call(
                .post, "/identity/v3/auth/tokens",
                json: SystemScopeTests.passwordBody("admin", adminPassword, scope: SystemScopeTests.systemScope)
            ).header("X-Subject-Token"))
            let keystone = KeystoneTokenAuthenticator(
                keystoneURL: "http://127.0.0.1:\(port)/identity",
                credentials: .init(username: "admin", password: adminPassword, projectName: "admin"),
                cacheTTL: .zero, logger: Logger(label: "keystone-caller-test"))
            let p = try #require(try await keystone.authenticate([HTTPField.Name("X-Auth-Token")!: project]))
            #expect(p.userName == "admin")
            #expect(p.projectName == "admin")
            #expect(p.scope == .project)
            let s = try #require(try await keystone.authenticate([HTTPField.Name("X-Auth-Token")!: system]))
            #expect(s.scope == .system)
            #expect(s.projectID == nil)
            #expect(s.projectName == nil)
        }
    }
}

extension SystemScopeTests {
    @Test("an application credential created with a system-scoped token logs in to the system")
    func systemApplicationCredential() async throws {
        try await withCloud { c in
            let login = try await c.call(.post, "/identity/v3/auth/tokens", json: Self.passwordBody("admin", adminPassword, scope: Self.systemScope))
            let t = try #require(login.header("X-Subject-Token"))
            let uid = try #require(login.json["token"]?["user"]?["id"]?.str)
            let made = try await ApplicationCredentialTests.create(c, token: t, user: uid, #"{"name":"sys-cred","roles":[{"name":"reader"}]}"#)
            #expect(made.status == .created, "\(made)")
            #expect(made.json["application_credential"]?["project_id"] == .null)
            let id = try #require(made.json["application_credential"]?["id"]?.str)
            let secret = try #require(made.json["application_credential"]?["secret"]?.str)
            let issued = try await c.call(.post, "/identity/v3/auth/tokens", json: ApplicationCredentialTests.byID(id, secret))
            #expect(issued.status == .created, "\(issued)")
            #expect(issued.json["token"]?["system"]?["all"] == .bool(true))
            #expect(issued.json["token"]?["roles"]?.list.compactMap { $0["name"]?.str } == ["reader"])
            let appToken = try #require(issued.header("X-Subject-Token"))
            // A system reader: reads users, may not create one.
            #expect(try await c.call(.get, "/identity/v3/users", token: appToken).status == .ok)
            #expect(try await c.call(.post, "/identity/v3/users", token: appToken, json: #"{"user":{"name":"x"}}"#).status == .forbidden)
        }
    }
}
