import GlimpseHTTP
import HTTPTypes
import Hummingbird

/// JSON responses of the identity API, written with `JSONWriter`.
enum IdentityResponse {
    static func json(_ status: HTTPResponse.Status = .ok, _ body: (inout JSONWriter) -> Void) -> Response {
        var w = JSONWriter()
        body(&w)
        return Response.json(w.buffer, status: status)
    }

    /// `{"<key>": {...}}`
    static func one(_ key: String, status: HTTPResponse.Status = .ok, _ write: (inout JSONWriter) -> Void) -> Response {
        json(status) { w in
            w.object { o in
                o.key(key)
                write(&o)
            }
        }
    }

    /// `{"<key>": [...], "links": {...}}`
    static func list<T>(_ key: String, _ items: [T], url: String, _ write: (T, inout JSONWriter) -> Void) -> Response {
        json { w in
            w.object { o in
                o.key(key)
                o.array { a in for item in items { write(item, &a) } }
                o.listLinks(url)
            }
        }
    }

    static func query(_ request: Request, _ key: String) -> String? {
        request.uri.queryParameters[key[...]].map(String.init)
    }
}
