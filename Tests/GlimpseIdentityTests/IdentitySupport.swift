import Foundation
import GlimpseCore
import GlimpseIdentity
import GlimpseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

// The harness of the identity tests: a fresh Glimpse with the built-in identity (own temporary data directory,
// admin password given) on a live loopback listener.

struct Answer: Sendable, CustomStringConvertible {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: ByteBuffer

    var text: String { String(buffer: body) }
    var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))) ?? .null }
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
    var description: String { "\(status.code) \(text.prefix(400))" }
}

extension JSONValue {
    subscript(_ key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    var str: String? { if case .string(let s) = self { return s } else { return nil } }
    var list: [JSONValue] { if case .array(let a) = self { return a } else { return [] } }
}

let adminPassword = "s3cret-Admin-pw"

struct Cloud: Sendable {
    let client: any TestClientProtocol
    let dataDirectory: String

    func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: String? = nil,
        body: [UInt8]? = nil, headers extra: HTTPFields = [:]
    ) async throws -> Answer {
        var headers = extra
        if let token { headers[HTTPField.Name("X-Auth-Token")!] = token }
        var buffer: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            buffer = ByteBuffer(string: json)
        } else if let body {
            headers[.contentType] = "application/octet-stream"
            buffer = ByteBuffer(bytes: body)
        }
        return try await client.execute(uri: uri, method: method, headers: headers, body: buffer) { r in
            Answer(status: r.status, headers: r.headers, body: r.body)
        }
    }

    static func passwordBody(user: String, password: String, project: String?) -> String {
        let scope = project.map { #","scope":{"project":{"name":"\#($0)","domain":{"name":"Default"}}}"# } ?? ""
        return #"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"\#(user)","domain":{"name":"Default"},"password":"\#(password)"}}}\#(scope)}}"#
    }

    /// POST /identity/v3/auth/tokens with a password; the full answer.
    func login(_ user: String, _ password: String, project: String? = nil) async throws -> Answer {
        try await call(.post, "/identity/v3/auth/tokens", json: Self.passwordBody(user: user, password: password, project: project))
    }

    /// A project-scoped token, or a failed expectation.
    func token(_ user: String, _ password: String, project: String) async throws -> String {
        let a = try await login(user, password, project: project)
        #expect(a.status == .created, "login \(user)/\(project): \(a)")
        return try #require(a.header("X-Subject-Token"))
    }

    func adminToken() async throws -> String { try await token("admin", adminPassword, project: "admin") }

    /// Creates a project and a user with `roles` on it, as admin; returns (project id, user id).
    func makeTenant(_ name: String, password: String, roles: [String] = ["member"], admin: String) async throws -> (String, String) {
        let p = try await call(.post, "/identity/v3/projects", token: admin, json: #"{"project":{"name":"\#(name)","domain_id":"default"}}"#)
        #expect(p.status == .created, "\(p)")
        let pid = try #require(p.json["project"]?["id"]?.str)
        let u = try await call(
            .post, "/identity/v3/users", token: admin,
            json: #"{"user":{"name":"\#(name)-user","password":"\#(password)","domain_id":"default","default_project_id":"\#(pid)","email":"x@example.org"}}"#)
        #expect(u.status == .created, "\(u)")
        let uid = try #require(u.json["user"]?["id"]?.str)
        let all = try await call(.get, "/identity/v3/roles", token: admin)
        for role in roles {
            let rid = try #require(all.json["roles"]?.list.first { $0["name"]?.str == role }?["id"]?.str)
            let g = try await call(.put, "/identity/v3/projects/\(pid)/users/\(uid)/roles/\(rid)", token: admin)
            #expect(g.status == .noContent, "\(g)")
        }
        return (pid, uid)
    }
}

func withCloud(
    tokenExpiration: Int = 3600, cacheTTL: Duration = .seconds(5),
    configure: (inout IdentitySettings) -> Void = { _ in },
    _ body: @Sendable (Cloud) async throws -> Void
) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-identity-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var config = GlimpseConfiguration(host: "127.0.0.1", port: 0, dataDirectory: dir, publicURL: "http://glimpse.test:9292", auth: .builtin)
    config.identity.adminPassword = adminPassword
    config.identity.passwordRounds = 2_000
    config.identity.tokenExpiration = tokenExpiration
    config.identity.tokenCacheTTL = cacheTTL
    configure(&config.identity)
    var logger = Logger(label: "identity-tests")
    logger.logLevel = .warning
    let app = try await GlimpseApplication.build(config, logger: logger)
    try await app.test(.live) { client in
        try await body(Cloud(client: client, dataDirectory: dir))
    }
}
