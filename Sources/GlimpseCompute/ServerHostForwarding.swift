import AsyncHTTPClient
import Foundation
import GlimpseCore
import GlimpseHTTP
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

/// Behind a load balancer a request to act on a server (stop, start, reboot, snapshot, delete) may reach a node
/// other than the one running it. Such a request is passed on, whole, to the server's node and its answer returned,
/// as Nova's API hands instance actions to the instance's compute host. Runs after authentication, and only for a
/// server the caller may see, so nothing about other projects' servers leaks. A server whose node is dead can be
/// deleted here (Nova's local delete); any other action on it is 409.
struct ServerHostForwardingMiddleware: RouterMiddleware {
    typealias Context = GlimpseRequestContext
    let service: ServerService
    let client: HTTPClient

    static let forwardedBy = PeerRequest.forwardedBy
    /// A clean stop waits for the guest; a dead node is noticed by the connect timeout well before this.
    static let answerTimeoutSeconds: Int64 = 120
    /// Action bodies are small JSON documents.
    static let maxBody = 64 * 1024
    static let hopByHop = PeerRequest.hopByHop

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let serverID = Self.serverActedOn(request) else { return try await next(request, context) }
        let caller = try context.requireCaller()
        let server = try await service.server(serverID, caller: caller)
        switch try await service.placement(of: server) {
        case .here:
            return try await next(request, context)
        case .unreachable(let node):
            if request.method == .delete { return try await next(request, context) }
            throw GlimpseError.conflict("Cannot act on instance \(serverID): its compute node \(node) is not available.")
        case .node(let lease):
            guard request.headers[Self.forwardedBy] == nil else {
                throw GlimpseError.conflict("Instance \(serverID) moved between nodes; try again.")
            }
            return try await forward(request, to: lease.address, context: context)
        }
    }

    /// The server id of `DELETE .../servers/{id}` and `POST .../servers/{id}/action`; nil for any other request.
    static func serverActedOn(_ request: Request) -> String? {
        let parts = request.uri.path.split(separator: "/", omittingEmptySubsequences: true)
        guard let servers = parts.lastIndex(of: "servers"), servers + 1 < parts.count else { return nil }
        let rest = parts[(servers + 1)...]
        switch (request.method, rest.count) {
        case (.delete, 1): return String(rest[rest.startIndex])
        case (.post, 2) where rest.last == "action": return String(rest[rest.startIndex])
        default: return nil
        }
    }

    func forward(_ request: Request, to address: String, context: Context) async throws -> Response {
        var body = try await request.body.collect(upTo: Self.maxBody)
        var outgoing = HTTPClientRequest(url: address + request.uri.description)
        outgoing.method = NIOHTTP1.HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        outgoing.headers.replaceOrAdd(name: Self.forwardedBy.rawName, value: service.images.node.nodeID)
        if body.readableBytes > 0 { outgoing.body = .bytes(body.readSlice(length: body.readableBytes) ?? ByteBuffer()) }
        let answer: HTTPClientResponse
        do {
            answer = try await client.execute(outgoing, timeout: .seconds(Self.answerTimeoutSeconds))
        } catch {
            context.logger.warning("passing \(request.method) \(request.uri.path) on to \(address) failed: \(error)")
            throw GlimpseError(.unavailable, "The compute node of this instance did not answer.")
        }
        let bytes = try await answer.body.collect(upTo: 1 << 20)
        var headers = HTTPFields()
        for (name, value) in answer.headers where !Self.hopByHop.contains(name.lowercased()) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        context.logger.debug("passed \(request.method) \(request.uri.path) on to \(address): \(answer.status.code)")
        return Response(
            status: HTTPResponse.Status(code: Int(answer.status.code)), headers: headers, body: .init(byteBuffer: bytes))
    }
}
