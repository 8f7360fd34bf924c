import HTTPTypes
import GlimpseHTTP
import Hummingbird
import NIOCore

/// The Image API version documents at the listener's root: `GET /` is 300, `GET /versions` is 200.
public struct VersionsController: Sendable {
    let body: ByteBuffer

    public init(publicURL: String) {
        var w = JSONWriter()
        let versions = ["v2.17"] + (0...16).reversed().map { "v2.\($0)" }
        w.object { o in
            o.field("versions", array: { a in
                for (n, v) in versions.enumerated() {
                    a.object { e in
                        e.field("id", v)
                        e.field("status", n == 0 ? "CURRENT" : "SUPPORTED")
                        e.field("links", array: { l in
                            l.object { link in
                                link.field("rel", "self")
                                link.field("href", publicURL + "/v2/")
                            }
                        })
                    }
                }
            })
        }
        body = w.buffer
    }

    public func addRoutes(to router: Router<GlimpseRequestContext>) {
        let body = self.body
        router.get("/") { _, _ in Response.json(body, status: .multipleChoices) }
        router.get("/versions") { _, _ in Response.json(body) }
        // Unknown API versions are answered with the version list, as Glance's version negotiation does.
        for v in ["v1", "v1.0", "v1.1", "v3"] {
            router.on("/\(v)/**", method: .get) { _, _ in Response.json(body, status: .multipleChoices) }
        }
    }
}
