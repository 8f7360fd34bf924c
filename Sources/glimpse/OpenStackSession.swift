// A client session against an OpenStack cloud for the `glimpse` subcommands that act as clients: authentication
// from the environment as the openstack client reads it (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME,
// OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME, or OS_TOKEN), the service catalog, and JSON requests.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// An authenticated session: a project-scoped token and the catalog it came with.
struct OpenStackSession: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let client: HTTPClient
    let token: String
    /// Service type → public endpoint URL (no trailing slash).
    let endpoints: [String: String]

    static let maxReply = 16 << 20

    /// Authenticates with Keystone's v3 API using the `OS_*` variables of `environment`.
    static func authenticate(environment: [String: String], client: HTTPClient) async throws -> OpenStackSession {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard var authURL = value("OS_AUTH_URL") else { throw Failure(description: "OS_AUTH_URL is not set") }
        while authURL.hasSuffix("/") { authURL.removeLast() }
        if !authURL.hasSuffix("/v3") { authURL += "/v3" }
        let interface = value("OS_INTERFACE") ?? "public"

        var scope: [String: Any]?
        if let id = value("OS_PROJECT_ID") {
            scope = ["project": ["id": id]]
        } else if let name = value("OS_PROJECT_NAME") {
            let domain: [String: Any] = value("OS_PROJECT_DOMAIN_ID").map { ["id": $0] }
                ?? ["name": value("OS_PROJECT_DOMAIN_NAME") ?? "Default"]
            scope = ["project": ["name": name, "domain": domain]]
        }
        var identity: [String: Any]
        if let token = value("OS_TOKEN") {
            identity = ["methods": ["token"], "token": ["id": token]]
        } else {
            guard let user = value("OS_USERNAME"), let password = environment["OS_PASSWORD"] else {
                throw Failure(description: "set OS_USERNAME and OS_PASSWORD (or OS_TOKEN)")
            }
            let domain: [String: Any] = value("OS_USER_DOMAIN_ID").map { ["id": $0] }
                ?? ["name": value("OS_USER_DOMAIN_NAME") ?? "Default"]
            identity = ["methods": ["password"], "password": ["user": ["name": user, "domain": domain, "password": password]]]
        }
        var auth: [String: Any] = ["identity": identity]
        if let scope { auth["scope"] = scope }
        let body = try JSONSerialization.data(withJSONObject: ["auth": auth])

        var request = HTTPClientRequest(url: authURL + "/auth/tokens")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: body))
        let response = try await client.execute(request, timeout: .seconds(30))
        let reply = try await response.body.collect(upTo: maxReply)
        guard response.status.code == 201, let token = response.headers.first(name: "X-Subject-Token") else {
            throw Failure(description: "authentication failed (\(response.status.code)): \(String(buffer: reply).prefix(300))")
        }
        let document = try JSONSerialization.jsonObject(with: Data(buffer: reply)) as? [String: Any]
        let catalog = (document?["token"] as? [String: Any])?["catalog"] as? [[String: Any]] ?? []
        var endpoints: [String: String] = [:]
        for service in catalog {
            guard let type = service["type"] as? String else { continue }
            let list = service["endpoints"] as? [[String: Any]] ?? []
            if var url = list.first(where: { $0["interface"] as? String == interface })?["url"] as? String {
                while url.hasSuffix("/") { url.removeLast() }
                endpoints[type] = url
            }
        }
        return OpenStackSession(client: client, token: token, endpoints: endpoints)
    }

    func endpoint(_ type: String) throws -> String {
        guard let url = endpoints[type] else {
            throw Failure(description: "the catalog has no \(type) endpoint")
        }
        return url
    }

    /// A JSON request; returns the status and the decoded body (nil when it is not JSON).
    func request(
        _ method: HTTPMethod, _ url: String, json: [String: Any]? = nil
    ) async throws -> (status: Int, body: [String: Any]?, text: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "X-Auth-Token", value: token)
        request.headers.add(name: "Accept", value: "application/json")
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await client.execute(request, timeout: .seconds(60))
        let reply = try await response.body.collect(upTo: Self.maxReply)
        let decoded = try? JSONSerialization.jsonObject(with: Data(buffer: reply)) as? [String: Any]
        return (Int(response.status.code), decoded, String(buffer: reply))
    }

    /// The message of an OpenStack error body (`{"badRequest": {"message": …}}` or Glance's text), for reports.
    static func errorMessage(_ body: [String: Any]?, text: String) -> String {
        if let body, let first = body.values.first as? [String: Any], let message = first["message"] as? String {
            return message
        }
        return String(text.prefix(300))
    }
}
