import GlimpseHTTP
import Hummingbird
import NIOCore

/// `GET /healthcheck`, unauthenticated, as Glance's paste pipeline answers it (oslo.middleware's healthcheck):
/// 200 with `OK` while the process serves requests. Load balancers poll it to take a node in or out of rotation.
public struct HealthcheckController: Sendable {
    public init() {}

    public func addRoutes(to router: Router<GlimpseRequestContext>) {
        router.get("/healthcheck") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; charset=UTF-8"],
                body: .init(byteBuffer: ByteBuffer(string: "OK")))
        }
        router.head("/healthcheck") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; charset=UTF-8"])
        }
    }
}
