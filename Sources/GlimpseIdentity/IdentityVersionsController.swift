import GlimpseHTTP
import Hummingbird
import NIOCore

/// `GET /identity` (300, the version list) and `GET /identity/v3` (the v3 version document).
struct IdentityVersionsController: Sendable {
    /// `<public>/identity/v3`
    let base: String

    func addRoutes(to router: Router<GlimpseRequestContext>) {
        let versions = versionList()
        let version = versionDocument()
        let location = base + "/"
        router.get("identity") { _, _ in
            var r = Response.json(versions, status: .multipleChoices)
            r.headers[.location] = location
            return r
        }
        router.get("identity/v3") { _, _ in Response.json(version) }
    }

    func versionEntry(_ w: inout JSONWriter) {
        w.object { v in
            v.field("id", "v3.14")
            v.field("status", "stable")
            v.field("updated", "2020-04-07T00:00:00Z")
            v.field("links", array: { l in
                l.object { link in
                    link.field("rel", "self")
                    link.field("href", base + "/")
                }
            })
            v.field("media-types", array: { m in
                m.object { t in
                    t.field("base", "application/json")
                    t.field("type", "application/vnd.openstack.identity-v3+json")
                }
            })
        }
    }

    func versionList() -> ByteBuffer {
        var w = JSONWriter()
        w.object { o in
            o.field("versions", object: { vs in
                vs.key("values")
                vs.array { a in versionEntry(&a) }
            })
        }
        return w.buffer
    }

    func versionDocument() -> ByteBuffer {
        var w = JSONWriter()
        w.object { o in
            o.key("version")
            versionEntry(&o)
        }
        return w.buffer
    }
}
