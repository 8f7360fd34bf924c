import AsyncHTTPClient
import GlimpseHTTP
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// Each node keeps its own image cache (node-local copies of image data). A cache change a client sends through the
/// load balancer must hold whichever node answers next, so a queue, delete or clear is repeated on every other live
/// node (marked as passed on, so they do not repeat it again) before the reply; a node that does not answer is
/// only logged. Listing shows the answering node's cache.
struct CacheFanOut: Sendable {
    let service: ImageService

    static let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(3), read: .seconds(30))))

    func repeatOnPeers(_ request: Request, logger: Logger) async {
        guard service.node.sharesStore, request.headers[PeerRequest.forwardedBy] == nil else { return }
        let peers: [String]
        do {
            peers = try await service.livePeers().map(\.address)
        } catch {
            logger.warning("image cache: the other nodes could not be listed: \(error)")
            return
        }
        await withTaskGroup(of: Void.self) { group in
            for peer in peers { group.addTask { await send(request, to: peer, logger: logger) } }
        }
    }

    private func send(_ request: Request, to address: String, logger: Logger) async {
        var outgoing = HTTPClientRequest(url: address + request.uri.description)
        outgoing.method = NIOHTTP1.HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where !PeerRequest.hopByHop.contains(field.name.canonicalName) {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        outgoing.headers.replaceOrAdd(name: PeerRequest.forwardedBy.rawName, value: service.node.nodeID)
        do {
            let answer = try await Self.client.execute(outgoing, timeout: .seconds(30))
            _ = try? await answer.body.collect(upTo: 1 << 20)
            logger.debug("image cache: \(request.method) \(request.uri.path) repeated on \(address): \(answer.status.code)")
        } catch {
            logger.warning("image cache: \(request.method) \(request.uri.path) not repeated on \(address): \(error)")
        }
    }
}
