import Foundation
import GlimpseCore
import GlimpseIdentity
import GlimpseStorage
import HTTPTypes
import Testing

// Application credentials: create/list/show/delete, authentication by id and by name, role subsets,
// restrictions, expiry, and tokens that stop working when what they depend on goes away.
@Suite("Identity application credentials")
struct ApplicationCredentialTests {
    static func byID(_ id: String, _ secret: String) -> String {
        #"{"auth":{"identity":{"methods":["application_credential"],"application_credential":{"id":"\#(id)","secret":"\#(secret)"}}}}"#
    }

    static func byName(_ name: String, user: String, _ secret: String) -> String {
        #"{"auth":{"identity":{"methods":["application_credential"],"application_credential":{"name":"\#(name)","secret":"\#(secret)","user":{"name":"\#(user)","domain":{"name":"Default"}}}}}}"#
    }

    /// Creates a credential with `body` (the inner object) as the token's user; the full answer.
    static func create(_ c: Cloud, token: String, user: String, _ body: String) async throws -> Answer {
        try await c.call(.post, "/identity/v3/users/\(user)/application_credentials", token: token, json: #"{"application_credential":\#(body)}"#)
    }

    @Test("create returns the secret once; list, show and delete; login by id and by name gives a project token")
    func lifecycle() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let (pid, uid) = try await c.makeTenant("ac", password: "ac-pw", admin: admin)
            let t = try await c.token("ac-user", "ac-pw", project: "ac")
            let made = try await Self.create(c, token: t, user: uid, #"{"name":"mycred","description":"ci"}"#)
            #expect(made.status == .created, "\(made)")
            let cred = try #require(made.json["application_credential"])
            let id = try #require(cred["id"]?.str)
            let secret = try #require(cred["secret"]?.str)
            #expect(secret.count >= 32)
            #expect(cred["project_id"]?.str == pid)
            #expect(cred["unrestricted"] == .bool(false))
            #expect(cred["expires_at"] == .null)
            #expect(cred["access_rules"]?.list.isEmpty == true)
            #expect(Set(cred["roles"]?.list.compactMap { $0["name"]?.str } ?? []) == ["member", "reader"])

            let shown = try await c.call(.get, "/identity/v3/users/\(uid)/application_credentials/\(id)", token: t)
            #expect(shown.status == .ok)
            #expect(shown.json["application_credential"]?["name"]?.str == "mycred")
            #expect(shown.json["application_credential"]?["secret"] == nil)
            let listed = try await c.call(.get, "/identity/v3/users/\(uid)/application_credentials?name=mycred", token: t)
            #expect(listed.json["application_credentials"]?.list.compactMap { $0["id"]?.str } == [id])
            #expect(try await c.call(.get, "/identity/v3/users/\(uid)/application_credentials/mycred", token: t).status == .notFound)
            let dup = try await Self.create(c, token: t, user: uid, #"{"name":"mycred"}"#)
            #expect(dup.status == .conflict)
            // Another user may not create credentials for this one.
            #expect(try await Self.create(c, token: admin, user: uid, #"{"name":"other"}"#).status == .forbidden)

            // The secret is stored only as a hash.
            let store = try IdentitySQLiteStore(path: c.dataDirectory + "/identity.sqlite")
            let stored = try #require(try await store.applicationCredential(id: id))
            #expect(stored.secretHash.hasPrefix("$pbkdf2-sha256$"))
            #expect(!stored.secretHash.contains(secret))

            let login = try await c.call(.post, "/identity/v3/auth/tokens", json: Self.byID(id, secret))
            #expect(login.status == .created, "\(login)")
            let token = try #require(login.json["token"])
            #expect(token["methods"]?.list.compactMap(\.str) == ["application_credential"])
            #expect(token["project"]?["id"]?.str == pid)
            #expect(token["application_credential"]?["id"]?.str == id)
            #expect(token["application_credential"]?["restricted"] == .bool(true))
            let appToken = try #require(login.header("X-Subject-Token"))
            #expect(try await c.call(.get, "/v2/images", token: appToken).status == .ok)

            let byName = try await c.call(.post, "/identity/v3/auth/tokens", json: Self.byName("mycred", user: "ac-user", secret))
            #expect(byName.status == .created, "\(byName)")
            #expect(try await c.call(.post, "/identity/v3/auth/tokens", json: Self.byID(id, "wrong")).status == .unauthorized)
            let scoped = #"{"auth":{"identity":{"methods":["application_credential"],"application_credential":{"id":"\#(id)","secret":"\#(secret)"}},"scope":{"project":{"id":"\#(pid)"}}}}"#
            #expect(try await c.call(.post, "/identity/v3/auth/tokens", json: scoped).status == .unauthorized)

            // A restricted credential's token may not manage credentials.
            #expect(try await Self.create(c, token: appToken, user: uid, #"{"name":"child"}"#).status == .forbidden)
            #expect(try await c.call(.delete, "/identity/v3/users/\(uid)/application_credentials/\(id)", token: appToken).status == .forbidden)

            // Deleting the credential ends its tokens at once and refuses its secret.
            #expect(try await c.call(.delete, "/identity/v3/users/\(uid)/application_credentials/\(id)", token: t).status == .noContent)
            #expect(try await c.call(.get, "/v2/images", token: appToken).status == .unauthorized)
            #expect(try await c.call(.post, "/identity/v3/auth/tokens", json: Self.byID(id, secret)).status == .unauthorized)
            #expect(try await c.call(.get, "/identity/v3/users/\(uid)/application_credentials/\(id)", token: t).status == .notFound)
        }
    }

    @Test("roles are a subset of the creating token's; unrestricted credentials may create more; a given secret is kept")
    func rolesAndRestrictions() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let (_, uid) = try await c.makeTenant("acr", password: "acr-pw", admin: admin)
            let t = try await c.token("acr-user", "acr-pw", project: "acr")
            #expect(try await Self.create(c, token: t, user: uid, #"{"name":"too-much","roles":[{"name":"admin"}]}"#).status == .forbidden)
            #expect(try await Self.create(c, token: t, user: uid, #"{"name":"bad","roles":"member"}"#).status == .badRequest)
            let readerOnly = try await Self.create(
                c, token: t, user: uid, #"{"name":"reader-only","secret":"my-own-secret","roles":[{"name":"reader"}],"unrestricted":true}"#)
            #expect(readerOnly.status == .created, "\(readerOnly)")
            #expect(readerOnly.json["application_credential"]?["secret"]?.str == "my-own-secret")
            let id = try #require(readerOnly.json["application_credential"]?["id"]?.str)
            let login = try await c.call(.post, "/identity/v3/auth/tokens", json: Self.byID(id, "my-own-secret"))
            #expect(login.json["token"]?["roles"]?.list.compactMap { $0["name"]?.str } == ["reader"])
            #expect(login.json["token"]?["application_credential"]?["restricted"] == .bool(false))
            let appToken = try #require(login.header("X-Subject-Token"))
            // A reader may list images but not create one.
            #expect(try await c.call(.get, "/v2/images", token: appToken).status == .ok)
            let image = try await c.call(.post, "/v2/images", token: appToken, json: #"{"name":"x","disk_format":"raw","container_format":"bare"}"#)
            #expect(image.status == .forbidden)
            // Unrestricted: it may create a credential, within its own roles.
            #expect(try await Self.create(c, token: appToken, user: uid, #"{"name":"child","roles":[{"name":"member"}]}"#).status == .forbidden)
            #expect(try await Self.create(c, token: appToken, user: uid, #"{"name":"child"}"#).status == .created)
        }
    }

    @Test("expires_at comes back to the microsecond it was given, as in Keystone")
    func expiryMicroseconds() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let (_, uid) = try await c.makeTenant("micro", password: "micro-pw", admin: admin)
            let t = try await c.token("micro-user", "micro-pw", project: "micro")
            let made = try await Self.create(c, token: t, user: uid, #"{"name":"fine","expires_at":"2099-01-02T03:04:05.123456"}"#)
            #expect(made.status == .created, "\(made)")
            #expect(made.json["application_credential"]?["expires_at"]?.str == "2099-01-02T03:04:05.123456")
        }
    }

    @Test("access rules are refused rather than ignored: an ignored rule would give a broader credential than asked")
    func accessRulesAreRefused() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let (_, uid) = try await c.makeTenant("rules", password: "rules-pw", admin: admin)
            let t = try await c.token("rules-user", "rules-pw", project: "rules")
            let rule = #"{"name":"narrow","access_rules":[{"service":"image","method":"GET","path":"/v2/images"}]}"#
            let refused = try await Self.create(c, token: t, user: uid, rule)
            #expect(refused.status == .badRequest, "\(refused)")
            #expect(refused.json["error"]?["message"]?.str?.contains("access_rules") == true, "\(refused)")
            let empty = try await Self.create(c, token: t, user: uid, #"{"name":"plain","access_rules":[]}"#)
            #expect(empty.status == .created, "\(empty)")
        }
    }

    @Test("expiry: a past expires_at is refused; tokens end with the credential; an expired credential does not log in")
    func expiry() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let (pid, uid) = try await c.makeTenant("ace", password: "ace-pw", admin: admin)
            let t = try await c.token("ace-user", "ace-pw", project: "ace")
            #expect(try await Self.create(c, token: t, user: uid, #"{"name":"old","expires_at":"2001-01-01T00:00:00"}"#).status == .badRequest)
            #expect(try await Self.create(c, token: t, user: uid, #"{"name":"junk","expires_at":"tomorrow"}"#).status == .badRequest)
            // Ten minutes from now: sooner than the token lifetime (an hour), so tokens end with the credential.
            let soon = Timestamp(microseconds: Int64((Date().timeIntervalSince1970 + 600).rounded()) * 1_000_000)
            let made = try await Self.create(c, token: t, user: uid, #"{"name":"short","expires_at":"\#(soon.iso8601)"}"#)
            #expect(made.status == .created, "\(made)")
            let stamp = String(soon.iso8601.dropLast())
            #expect(made.json["application_credential"]?["expires_at"]?.str?.hasPrefix(stamp) == true)
            let id = try #require(made.json["application_credential"]?["id"]?.str)
            let secret = try #require(made.json["application_credential"]?["secret"]?.str)
            let issued = try await c.call(.post, "/identity/v3/auth/tokens", json: Self.byID(id, secret))
            #expect(issued.status == .created)
            #expect(issued.json["token"]?["expires_at"]?.str?.hasPrefix(stamp) == true)

            // A credential whose expiry has passed (written to the store directly: the API refuses past dates).
            let store = try IdentitySQLiteStore(path: c.dataDirectory + "/identity.sqlite")
            let member = try await SystemScopeTests.roleID(c, "member", admin: admin)
            try await store.insertApplicationCredential(IdentityApplicationCredential(
                id: "c0ffee", userID: uid, name: "expired", projectID: pid,
                secretHash: try await PasswordHasher.hash("expired-secret", rounds: 2_000),
                expiresAt: Timestamp(microseconds: 1_000_000), roleIDs: [member]))
            let refused = try await c.call(.post, "/identity/v3/auth/tokens", json: Self.byID("c0ffee", "expired-secret"))
            #expect(refused.status == .unauthorized)
            #expect(refused.json["error"]?["message"]?.str?.contains("expired") == true)
        }
    }

    @Test("removing the owner's role on the project or deleting the owner ends the credential's tokens at once")
    func invalidation() async throws {
        try await withCloud(cacheTTL: .seconds(60)) { c in
            let admin = try await c.adminToken()
            let (pid, uid) = try await c.makeTenant("aci", password: "aci-pw", admin: admin)
            let t = try await c.token("aci-user", "aci-pw", project: "aci")
            let made = try await Self.create(c, token: t, user: uid, #"{"name":"one"}"#)
            let id = try #require(made.json["application_credential"]?["id"]?.str)
            let secret = try #require(made.json["application_credential"]?["secret"]?.str)
            let appToken = try #require(try await c.call(.post, "/identity/v3/auth/tokens", json: Self.byID(id, secret)).header("X-Subject-Token"))
            #expect(try await c.call(.get, "/v2/images", token: appToken).status == .ok)
            let member = try await SystemScopeTests.roleID(c, "member", admin: admin)
            #expect(try await c.call(.delete, "/identity/v3/projects/\(pid)/users/\(uid)/roles/\(member)", token: admin).status == .noContent)
            #expect(try await c.call(.get, "/v2/images", token: appToken).status == .unauthorized)
            #expect(try await c.call(.post, "/identity/v3/auth/tokens", json: Self.byID(id, secret)).status == .unauthorized)

            // A second credential, then the owner is deleted.
            #expect(try await c.call(.put, "/identity/v3/projects/\(pid)/users/\(uid)/roles/\(member)", token: admin).status == .noContent)
            let t2 = try await c.token("aci-user", "aci-pw", project: "aci")
            let second = try await Self.create(c, token: t2, user: uid, #"{"name":"two"}"#)
            let id2 = try #require(second.json["application_credential"]?["id"]?.str)
            let secret2 = try #require(second.json["application_credential"]?["secret"]?.str)
            let appToken2 = try #require(try await c.call(.post, "/identity/v3/auth/tokens", json: Self.byID(id2, secret2)).header("X-Subject-Token"))
            #expect(try await c.call(.get, "/v2/images", token: appToken2).status == .ok)
            #expect(try await c.call(.delete, "/identity/v3/users/\(uid)", token: admin).status == .noContent)
            #expect(try await c.call(.get, "/v2/images", token: appToken2).status == .unauthorized)
            #expect(try await c.call(.post, "/identity/v3/auth/tokens", json: Self.byID(id2, secret2)).status == .unauthorized)
        }
    }
}
