import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Glance's (webob's) error bodies. The body follows the Accept header: JSON (`{"message": ..., "code": "404 Not
/// Found", "title": "Not Found"}`) when the client accepts `application/json` or states no preference, an HTML page
/// for `*/*` and `text/html` (python-glanceclient sends `*/*` and cannot read the JSON shape).
public struct GlanceErrorRenderer: ErrorRenderer {
    public init() {}

    public func response(for error: ErrorDescription, request: Request) -> Response {
        var response =
            Self.prefersHTML(request.headers[.accept])
            ? Self.htmlResponse(status: error.status, message: error.message)
            : Self.response(status: error.status, message: error.message)
        response = withExtraHeaders(response, error)
        if error.status == .unauthorized, response.headers[.wwwAuthenticate] == nil {
            response.headers[.wwwAuthenticate] = "Keystone uri=\"\""
        }
        return response
    }

    /// Glance's content negotiation for error bodies.
    static func prefersHTML(_ accept: String?) -> Bool {
        guard let accept = accept?.lowercased(), !accept.isEmpty else { return false }
        if accept.contains("application/json") { return false }
        return accept.contains("text/html") || accept.contains("*/*")
    }

    public static func response(status: HTTPResponse.Status, message: String) -> Response {
        var json = JSONWriter()
        json.object {
            $0.field("message", message)
            $0.field("code", "\(status.code) \(status.reasonPhrase)")
            $0.field("title", status.reasonPhrase)
        }
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: json.buffer))
    }

    /// webob's HTML error page, as Glance sends it to clients that accept anything.
    static func htmlResponse(status: HTTPResponse.Status, message: String) -> Response {
        let escaped = message.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "'", with: "&#x27;")
            .replacingOccurrences(of: "\"", with: "&quot;")
        let title = "\(status.code) \(status.reasonPhrase)"
        let page = "<html>\n <head>\n  <title>\(title)</title>\n </head>\n <body>\n  <h1>\(title)</h1>\n  \(escaped)<br /><br />\n\n\n\n </body>\n</html>"
        return Response(
            status: status, headers: [.contentType: "text/html; charset=UTF-8"],
            body: .init(byteBuffer: ByteBuffer(string: page)))
    }
}
