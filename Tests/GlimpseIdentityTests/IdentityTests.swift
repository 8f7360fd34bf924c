import Foundation
import GlimpseCore
import GlimpseIdentity
import GlimpseStorage
import HTTPTypes
import Testing

@Suite("Built-in identity")
struct IdentityTests {
    @Test("version documents at /identity (300) and /identity/v3 (200)")
    func versions() async throws {
        try await withCloud { c in
            let root = try await c.call(.get, "/identity")
            #expect(root.status == .multipleChoices)
            #expect(root.json["versions"]?["values"]?.list.first?["id"]?.str == "v3.14")
            #expect(root.json["versions"]?["values"]?.list.first?["links"]?.list.first?["href"]?.str == "http://glimpse.test:9292/identity/v3/")
            let v3 = try await c.call(.get, "/identity/v3")
            #expect(v3.status == .ok)
            #expect(v3.json["version"]?["status"]?.str == "stable")
            let slash = try await c.call(.get, "/identity/v3/")
            #expect(slash.status == .ok)
        }
    }

    @Test("first start: Default domain, admin project and user, implied roles, openrc 0600 without a logged password")
    func bootstrap() async throws {
        try await withCloud { c in
            let openrc = c.dataDirectory + "/openrc"
            let attributes = try FileManager.default.attributesOfItem(atPath: openrc)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let text = try String(contentsOfFile: openrc, encoding: .utf8)
            for line in [
                "OS_AUTH_URL='http://glimpse.test:9292/identity/v3'", "OS_IDENTITY_API_VERSION=3", "OS_USERNAME=admin",
                "OS_PASSWORD='\(adminPassword)'", "OS_PROJECT_NAME=admin", "OS_USER_DOMAIN_NAME=Default",
                "OS_PROJECT_DOMAIN_NAME=Default",
            ] {
                #expect(text.contains("export " + line), "openrc lacks \(line)")
            }
            let login = try await c.login("admin", adminPassword, project: "admin")
            #expect(login.status == .created)
            let token = try #require(login.json["token"])
            #expect(Set(token["roles"]?.list.compactMap { $0["name"]?.str } ?? []) == ["admin", "member", "reader"])
            #expect(token["project"]?["name"]?.str == "admin")
            #expect(token["project"]?["domain"]?["id"]?.str == "default")
            #expect(token["user"]?["domain"]?["name"]?.str == "Default")
            let admin = try #require(login.header("X-Subject-Token"))
            let domain = try await c.call(.get, "/identity/v3/domains/default", token: admin)
            #expect(domain.json["domain"]?["name"]?.str == "Default")
            let roles = try await c.call(.get, "/identity/v3/roles", token: admin)
            let roleNames = Set(roles.json["roles"]?.list.compactMap { $0["name"]?.str } ?? [])
            #expect(roleNames.isSuperset(of: ["admin", "member", "reader"]))

            // The password is stored only as a salted PBKDF2 hash.
            let store = try IdentitySQLiteStore(path: c.dataDirectory + "/identity.sqlite")
            let user = try #require(try await store.user(name: "admin", domainID: "default"))
            let hash = try #require(user.passwordHash)
            #expect(hash.hasPrefix("$pbkdf2-sha256$"))
            #expect(!hash.contains(adminPassword))
            let raw = try Data(contentsOf: URL(fileURLWithPath: c.dataDirectory + "/identity.sqlite"))
            #expect(raw.range(of: Data(adminPassword.utf8)) == nil)
        }
    }

    @Test("token issue, validate (GET and HEAD), revoke; a revoked token gets 401 at once")
    func tokenLifecycle() async throws {
        try await withCloud(cacheTTL: .seconds(60)) { c in
            let login = try await c.login("admin", adminPassword, project: "admin")
            #expect(login.status == .created)
            let token = try #require(login.header("X-Subject-Token"))
            #expect(token.count == 43, "32 random bytes, base64url")
            #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            let body = try #require(login.json["token"])
            #expect(body["methods"]?.list.compactMap(\.str) == ["password"])
            #expect(body["expires_at"]?.str?.hasSuffix(".000000Z") == true)
            #expect(body["issued_at"]?.str != nil)
            let catalog = body["catalog"]?.list ?? []
            let urls = Dictionary(uniqueKeysWithValues: catalog.compactMap { e -> (String, [JSONValue])? in
                guard let t = e["type"]?.str else { return nil }
                return (t, e["endpoints"]?.list ?? [])
            })
            #expect(Set(urls.keys) == ["identity", "image", "compute"])
            #expect(urls["image"]?.first { $0["interface"]?.str == "public" }?["url"]?.str == "http://glimpse.test:9292")
            #expect(urls["compute"]?.first?["url"]?.str == "http://glimpse.test:9292/compute/v2.1")
            #expect(urls["identity"]?.first?["url"]?.str == "http://glimpse.test:9292/identity")
            #expect(Set(urls["image"]?.compactMap { $0["interface"]?.str } ?? []) == ["public", "internal", "admin"])
            #expect(urls["image"]?.allSatisfy { $0["region_id"]?.str == "RegionOne" } == true)

            // The API accepts it.
            #expect(try await c.call(.get, "/v2/images", token: token).status == .ok)

            // A second token validates and revokes the first.
            let other = try await c.adminToken()
            let subject: HTTPFields = [HTTPField.Name("X-Subject-Token")!: token]
            let v = try await c.call(.get, "/identity/v3/auth/tokens", token: other, headers: subject)
            #expect(v.status == .ok)
            #expect(v.header("X-Subject-Token") == token)
            #expect(v.json["token"]?["user"]?["name"]?.str == "admin")
            #expect(try await c.call(.head, "/identity/v3/auth/tokens", token: other, headers: subject).status == .ok)
            #expect(try await c.call(.delete, "/identity/v3/auth/tokens", token: other, headers: subject).status == .noContent)

            // Revoked: 401 on this node at once, even though a validation was cached for 60 s.
            let after = try await c.call(.get, "/v2/images", token: token)
            #expect(after.status == .unauthorized)
            #expect(after.header("WWW-Authenticate") == "Keystone uri=\"http://glimpse.test:9292/identity\"")
            #expect(try await c.call(.get, "/identity/v3/auth/tokens", token: other, headers: subject).status == .notFound)
            #expect(try await c.call(.get, "/identity/v3/auth/projects", token: token).status == .unauthorized)

            // A user may validate and revoke their own token.
            let own = try await c.adminToken()
            #expect(try await c.call(.delete, "/identity/v3/auth/tokens", token: own, headers: [HTTPField.Name("X-Subject-Token")!: own]).status == .noContent)
            #expect(try await c.call(.get, "/v2/images", token: own).status == .unauthorized)
        }
    }

    @Test("wrong password, unknown user, no token and a forged token: 401")
    func unauthorized() async throws {
        try await withCloud { c in
            let wrong = try await c.login("admin", "not-the-password", project: "admin")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.header("X-Subject-Token") == nil)
            #expect(wrong.json["error"]?["code"] == .int(401))
            #expect(try await c.login("nobody", "x", project: "admin").status == .unauthorized)
            #expect(try await c.login("admin", adminPassword, project: "no-such-project").status == .unauthorized)

            let none = try await c.call(.get, "/v2/images")
            #expect(none.status == .unauthorized)
            #expect(none.header("WWW-Authenticate")?.hasPrefix("Keystone uri=") == true)
            #expect(try await c.call(.get, "/v2/images", token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").status == .unauthorized)
            #expect(try await c.call(.get, "/identity/v3/projects").status == .unauthorized)
            // trusted headers mean nothing with built-in identity
            let spoof: HTTPFields = [
                HTTPField.Name("X-User-Id")!: "admin", HTTPField.Name("X-Project-Id")!: "admin", HTTPField.Name("X-Roles")!: "admin",
            ]
            #expect(try await c.call(.get, "/v2/images", headers: spoof).status == .unauthorized)
            // version discovery needs no token
            #expect(try await c.call(.get, "/").status == .multipleChoices)
        }
    }

    @Test("tokens expire")
    func expiry() async throws {
        try await withCloud(tokenExpiration: 2) { c in
            let token = try await c.adminToken()
            try await Task.sleep(for: .milliseconds(3_100))
            #expect(try await c.call(.get, "/v2/images", token: token).status == .unauthorized)
            // An expired token cannot be rescoped either (no second token here: under load it could expire too).
            let rescope = try await c.call(
                .post, "/identity/v3/auth/tokens",
                json: #"{"auth":{"identity":{"methods":["token"],"token":{"id":"\#(token)"}}}}"#)
            #expect(rescope.status == .unauthorized)
        }
    }

    @Test("unscoped tokens, rescoping with the token method, /auth/projects")
    func scoping() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let (pid, _) = try await c.makeTenant("alpha", password: "alpha-pw", admin: admin)
            // No scope: the default project is used, as Keystone does.
            let dflt = try await c.login("alpha-user", "alpha-pw")
            #expect(dflt.json["token"]?["project"]?["id"]?.str == pid)
            let unscoped = try await c.call(
                .post, "/identity/v3/auth/tokens",
                json: #"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"alpha-user","domain":{"id":"default"},"password":"alpha-pw"}}},"scope":"unscoped"}}"#)
            #expect(unscoped.status == .created)
            #expect(unscoped.json["token"]?["project"] == nil)
            #expect(unscoped.json["token"]?["catalog"] == nil)
            let u = try #require(unscoped.header("X-Subject-Token"))
            let projects = try await c.call(.get, "/identity/v3/auth/projects", token: u)
            #expect(projects.json["projects"]?.list.compactMap { $0["name"]?.str } == ["alpha"])
            // An unscoped token may not list images (no project).
            #expect(try await c.call(.get, "/v2/images", token: u).status == .forbidden)
            let rescoped = try await c.call(
                .post, "/identity/v3/auth/tokens",
                json: #"{"auth":{"identity":{"methods":["token"],"token":{"id":"\#(u)"}},"scope":{"project":{"id":"\#(pid)"}}}}"#)
            #expect(rescoped.status == .created, "\(rescoped)")
            #expect(rescoped.json["token"]?["project"]?["id"]?.str == pid)
            #expect(rescoped.json["token"]?["expires_at"] == unscoped.json["token"]?["expires_at"])
            #expect(rescoped.json["token"]?["audit_ids"]?.list.count == 2)
            let t = try #require(rescoped.header("X-Subject-Token"))
            #expect(try await c.call(.get, "/v2/images", token: t).status == .ok)
            // No role on the admin project: no token for it.
            let denied = try await c.call(
                .post, "/identity/v3/auth/tokens",
                json: #"{"auth":{"identity":{"methods":["token"],"token":{"id":"\#(u)"}},"scope":{"project":{"name":"admin","domain":{"name":"Default"}}}}}"#)
            #expect(denied.status == .unauthorized)
        }
    }

    @Test("identity administration is admin-only; users read themselves and their projects")
    func identityRBAC() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let (pid, uid) = try await c.makeTenant("beta", password: "beta-pw", admin: admin)
            let (otherPid, otherUid) = try await c.makeTenant("gamma", password: "gamma-pw", admin: admin)
            let t = try await c.token("beta-user", "beta-pw", project: "beta")
            for (m, path, body) in [
                (HTTPRequest.Method.get, "/identity/v3/projects", nil as String?),
                (.get, "/identity/v3/users", nil), (.get, "/identity/v3/roles", nil),
                (.post, "/identity/v3/projects", #"{"project":{"name":"evil"}}"#),
                (.post, "/identity/v3/users", #"{"user":{"name":"evil","password":"x"}}"#),
                (.delete, "/identity/v3/projects/\(otherPid)", nil), (.delete, "/identity/v3/users/\(otherUid)", nil),
                (.get, "/identity/v3/users/\(otherUid)", nil), (.get, "/identity/v3/projects/\(otherPid)", nil),
                (.get, "/identity/v3/role_assignments", nil),
            ] {
                let a = try await c.call(m, path, token: t, json: body)
                #expect(a.status == .forbidden, "\(m) \(path): \(a)")
                #expect(a.json["error"]?["code"] == .int(403))
            }
            #expect(try await c.call(.get, "/identity/v3/users/\(uid)", token: t).json["user"]?["email"]?.str == "x@example.org")
            #expect(try await c.call(.get, "/identity/v3/projects/\(pid)", token: t).json["project"]?["name"]?.str == "beta")
            #expect(try await c.call(.get, "/identity/v3/users/\(uid)/projects", token: t).status == .ok)

            // Admin: filters, lookups by name, role assignments, deletes.
            let byName = try await c.call(.get, "/identity/v3/projects?name=beta&domain_id=default", token: admin)
            #expect(byName.json["projects"]?.list.compactMap { $0["id"]?.str } == [pid])
            #expect(try await c.call(.get, "/identity/v3/projects/beta", token: admin).status == .notFound)
            #expect(try await c.call(.get, "/identity/v3/users?name=beta-user", token: admin).json["users"]?.list.count == 1)
            #expect(try await c.call(.get, "/identity/v3/roles?name=member", token: admin).json["roles"]?.list.count == 1)
            #expect(try await c.call(.get, "/identity/v3/domains?name=Default", token: admin).json["domains"]?.list.count == 1)
            let dup = try await c.call(.post, "/identity/v3/projects", token: admin, json: #"{"project":{"name":"beta"}}"#)
            #expect(dup.status == .conflict)
            let ra = try await c.call(.get, "/identity/v3/role_assignments?user.id=\(uid)&effective&include_names", token: admin)
            #expect(Set(ra.json["role_assignments"]?.list.compactMap { $0["role"]?["name"]?.str } ?? []) == ["member", "reader"])
            let member = try #require(
                try await c.call(.get, "/identity/v3/roles?name=member", token: admin).json["roles"]?.list.first?["id"]?.str)
            let grant = "/identity/v3/projects/\(pid)/users/\(uid)/roles/\(member)"
            #expect(try await c.call(.head, grant, token: admin).status == .noContent)
            #expect(try await c.call(.get, "/v2/images", token: t).status == .ok)
            #expect(try await c.call(.delete, grant, token: admin).status == .noContent)
            #expect(try await c.call(.get, grant, token: admin).status == .notFound)
            // Without any role on its project the token is no longer valid.
            #expect(try await c.call(.get, "/v2/images", token: t).status == .unauthorized)
            #expect(try await c.call(.delete, "/identity/v3/users/\(uid)", token: admin).status == .noContent)
            #expect(try await c.call(.delete, "/identity/v3/projects/\(pid)", token: admin).status == .noContent)
            #expect(try await c.login("beta-user", "beta-pw").status == .unauthorized)
        }
    }

    @Test("a second project's member cannot list, show, download, change or delete the first project's private image")
    func imageRBAC() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            _ = try await c.makeTenant("first", password: "first-pw", admin: admin)
            _ = try await c.makeTenant("second", password: "second-pw", admin: admin)
            _ = try await c.makeTenant("firstreader", password: "r-pw", roles: ["reader"], admin: admin)
            let first = try await c.token("first-user", "first-pw", project: "first")
            let second = try await c.token("second-user", "second-pw", project: "second")

            let created = try await c.call(
                .post, "/v2/images", token: first,
                json: #"{"name":"private-one","disk_format":"raw","container_format":"bare","visibility":"private"}"#)
            #expect(created.status == .created, "\(created)")
            let id = try #require(created.json["id"]?.str)
            let firstProject = try await c.call(.get, "/identity/v3/auth/projects", token: first).json["projects"]?.list.first?["id"]?.str
            #expect(created.json["owner"]?.str == firstProject)
            let data: [UInt8] = Array("hello glimpse".utf8)
            #expect(try await c.call(.put, "/v2/images/\(id)/file", token: first, body: data).status == .noContent)
            #expect(try await c.call(.get, "/v2/images/\(id)/file", token: first).text == "hello glimpse")

            let list = try await c.call(.get, "/v2/images", token: second)
            #expect(list.status == .ok)
            #expect(!(list.json["images"]?.list.contains { $0["id"]?.str == id } ?? true))
            #expect(try await c.call(.get, "/v2/images/\(id)", token: second).status == .notFound)
            #expect(try await c.call(.get, "/v2/images/\(id)/file", token: second).status == .notFound)
            let patch = try await c.call(
                .patch, "/v2/images/\(id)", token: second,
                headers: [.contentType: "application/openstack-images-v2.1-json-patch"])
            #expect(patch.status == .notFound || patch.status == .badRequest)
            let patch2 = try await c.client.execute(
                uri: "/v2/images/\(id)", method: .patch,
                headers: [HTTPField.Name("X-Auth-Token")!: second, .contentType: "application/openstack-images-v2.1-json-patch"],
                body: .init(string: #"[{"op":"replace","path":"/name","value":"mine"}]"#)) { $0.status }
            #expect(patch2 == .notFound)
            #expect(try await c.call(.delete, "/v2/images/\(id)", token: second).status == .notFound)
            #expect(try await c.call(.put, "/v2/images/\(id)/file", token: second, body: data).status == .notFound)
            #expect(try await c.call(.get, "/v2/images/\(id)", token: first).json["name"]?.str == "private-one")

            // The admin sees it; a reader of another project does not; sharing makes it visible to the member.
            #expect(try await c.call(.get, "/v2/images/\(id)", token: admin).status == .ok)
            let reader = try await c.token("firstreader-user", "r-pw", project: "firstreader")
            #expect(try await c.call(.get, "/v2/images/\(id)", token: reader).status == .notFound)
            let secondProject = try #require(
                try await c.call(.get, "/identity/v3/auth/projects", token: second).json["projects"]?.list.first?["id"]?.str)
            _ = try await c.call(.patch, "/v2/images/\(id)", token: first)  // (no body: ignored)
            let vis = try await c.client.execute(
                uri: "/v2/images/\(id)", method: .patch,
                headers: [HTTPField.Name("X-Auth-Token")!: first, .contentType: "application/openstack-images-v2.1-json-patch"],
                body: .init(string: #"[{"op":"replace","path":"/visibility","value":"shared"}]"#)) { $0.status }
            #expect(vis == .ok)
            let add = try await c.call(.post, "/v2/images/\(id)/members", token: first, json: #"{"member":"\#(secondProject)"}"#)
            #expect(add.status == .ok, "\(add)")
            #expect(try await c.call(.get, "/v2/images/\(id)", token: second).status == .ok)
            // A member may not delete or change someone else's image.
            #expect(try await c.call(.delete, "/v2/images/\(id)", token: second).status == .forbidden)
            #expect(try await c.call(.delete, "/v2/images/\(id)", token: first).status == .noContent)
        }
    }

    @Test("password hashing round-trips and rejects")
    func hashing() async throws {
        let h = try await PasswordHasher.hash("correct horse", rounds: 2_000)
        #expect(await PasswordHasher.verify("correct horse", against: h))
        #expect(await !PasswordHasher.verify("correct horsf", against: h))
        #expect(await !PasswordHasher.verify("correct horse", against: nil))
        #expect(await !PasswordHasher.verify("correct horse", against: "$pbkdf2-sha256$10$AA==$AA=="))
        let h2 = try await PasswordHasher.hash("correct horse", rounds: 2_000)
        #expect(h != h2, "salted")
        #expect(TokenCodec.newToken() != TokenCodec.newToken())
    }
}
