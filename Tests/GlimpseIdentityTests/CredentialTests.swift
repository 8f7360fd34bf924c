import Foundation
import GlimpseCore
import HTTPTypes
import Testing

// /v3/credentials through HTTP: CRUD, an ec2 credential's id, validation, and who sees which credential.
@Suite("Identity credentials")
struct CredentialTests {
    @Test("create, show, update, list, delete; an ec2 credential's id is the SHA-256 of its access key; bad input is 400")
    func crud() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let (pid, uid) = try await c.makeTenant("cloud", password: "cloud-pw", admin: admin)
            let blob = #"{\"access\":\"AK1\",\"secret\":\"S1\"}"#
            let made = try await c.call(
                .post, "/identity/v3/credentials", token: admin,
                json: #"{"credential":{"user_id":"\#(uid)","project_id":"\#(pid)","type":"ec2","blob":"\#(blob)"}}"#)
            #expect(made.status == .created, "\(made)")
            let id = try #require(made.json["credential"]?["id"]?.str)
            // sha256("AK1")
            #expect(id == "5e2e84497339a607cff12f20eab85a14f7bad4da010e4fedc95381144fa3933d")
            #expect(made.json["credential"]?["blob"]?.str?.contains("AK1") == true)
            let dup = try await c.call(
                .post, "/identity/v3/credentials", token: admin,
                json: #"{"credential":{"user_id":"\#(uid)","project_id":"\#(pid)","type":"ec2","blob":"\#(blob)"}}"#)
            #expect(dup.status == .conflict)
            let noProject = try await c.call(
                .post, "/identity/v3/credentials", token: admin, json: #"{"credential":{"user_id":"\#(uid)","type":"ec2","blob":"\#(blob)"}}"#)
            #expect(noProject.status == .badRequest)
            let notString = try await c.call(
                .post, "/identity/v3/credentials", token: admin, json: #"{"credential":{"user_id":"\#(uid)","type":"totp","blob":{}}}"#)
            #expect(notString.status == .badRequest)

            let newBlob = #"{\"access\":\"AK2\",\"secret\":\"S2\"}"#
            let patched = try await c.call(.patch, "/identity/v3/credentials/\(id)", token: admin, json: #"{"credential":{"blob":"\#(newBlob)"}}"#)
            #expect(patched.status == .ok, "\(patched)")
            #expect(patched.json["credential"]?["id"]?.str == id)
            let shown = try await c.call(.get, "/identity/v3/credentials/\(id)", token: admin)
            #expect(shown.json["credential"]?["blob"]?.str?.contains("AK2") == true)
            #expect(shown.json["credential"]?["project_id"]?.str == pid)

            // The user sees its own credential; a stranger does not.
            let own = try await c.token("cloud-user", "cloud-pw", project: "cloud")
            let mine = try await c.call(.get, "/identity/v3/credentials", token: own)
            #expect(mine.json["credentials"]?.list.compactMap { $0["id"]?.str } == [id])
            _ = try await c.makeTenant("other", password: "other-pw", admin: admin)
            let stranger = try await c.token("other-user", "other-pw", project: "other")
            #expect(try await c.call(.get, "/identity/v3/credentials/\(id)", token: stranger).status == .forbidden)
            #expect(try await c.call(.get, "/identity/v3/credentials", token: stranger).json["credentials"]?.list.isEmpty == true)

            #expect(try await c.call(.delete, "/identity/v3/credentials/\(id)", token: own).status == .noContent)
            #expect(try await c.call(.get, "/identity/v3/credentials/\(id)", token: admin).status == .notFound)
        }
    }
}
