import Foundation
import GlimpseCore
import HTTPTypes
import Testing

// OS-EC2 credentials through HTTP: a user creates, lists, shows and deletes its own; others may not see them.
@Suite("Identity EC2 credentials")
struct EC2CredentialTests {
    @Test("create (access and secret), list, show, delete; stored as an ec2 credential; a stranger gets 403")
    func lifecycle() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let (pid, uid) = try await c.makeTenant("s3", password: "s3-pw", admin: admin)
            let t = try await c.token("s3-user", "s3-pw", project: "s3")
            let base = "/identity/v3/users/\(uid)/credentials/OS-EC2"
            let made = try await c.call(.post, base, token: t, json: #"{"tenant_id":"\#(pid)"}"#)
            #expect(made.status == .created, "\(made)")
            let access = try #require(made.json["credential"]?["access"]?.str)
            #expect(made.json["credential"]?["secret"]?.str?.isEmpty == false)
            #expect(made.json["credential"]?["tenant_id"]?.str == pid)
            #expect(try await c.call(.post, base, token: t, json: #"{"tenant_id":"nope"}"#).status == .notFound)

            let listed = try await c.call(.get, base, token: t)
            #expect(listed.json["credentials"]?.list.compactMap { $0["access"]?.str } == [access])
            let shown = try await c.call(.get, "\(base)/\(access)", token: t)
            #expect(shown.json["credential"]?["secret"] == made.json["credential"]?["secret"])
            let all = try await c.call(.get, "/identity/v3/credentials?type=ec2", token: admin)
            #expect(all.json["credentials"]?.list.count == 1)

            _ = try await c.makeTenant("other", password: "other-pw", admin: admin)
            let stranger = try await c.token("other-user", "other-pw", project: "other")
            #expect(try await c.call(.get, "\(base)/\(access)", token: stranger).status == .forbidden)

            #expect(try await c.call(.delete, "\(base)/\(access)", token: t).status == .noContent)
            #expect(try await c.call(.get, "\(base)/\(access)", token: t).status == .notFound)
        }
    }
}
