import Foundation
import GlimpseCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// An error that also carries response headers (`Accept-Patch` on 415, `Content-Range` on 416).
public struct GlimpseErrorWithHeaders: Error, Sendable {
    public var error: GlimpseError
    public var headers: HTTPFields

    public init(_ error: GlimpseError, headers: HTTPFields) {
        self.error = error
        self.headers = headers
    }
}

/// Maps every error that escapes a handler to an OpenStack-shaped body with the right status, in one place.
/// Like Glance (webob), the body follows the Accept header: JSON (`{"message": ..., "code": "404 Not Found",
/// "title": "Not Found"}`) when the client accepts `application/json` or states no preference, an HTML page for
/// `*/*` and `text/html` (python-glanceclient sends `*/*` and cannot read the JSON shape).
public struct OpenStackErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let (status, message, headers) = Self.describe(error, logger: context.logger)
            var response =
                Self.prefersHTML(request.headers[.accept])
                ? Self.htmlResponse(status: status, message: message)
                : Self.response(status: status, message: message)
            for field in headers where field.name != .contentType && field.name != .contentLength {
                response.headers.append(field)
            }
            if status == .unauthorized, response.headers[.wwwAuthenticate] == nil {
                response.headers[.wwwAuthenticate] = "Keystone uri=\"\""
            }
            return response
        }
    }

    /// The status, message and extra headers for any error.
    static func describe(_ error: any Error, logger: Logger) -> (HTTPResponse.Status, String, HTTPFields) {
        switch error {
        case let e as GlimpseError:
            if e.kind == .internalError { logger.error("internal error: \(e.message)") }
            return (status(of: e.kind), e.message, [:])
        case let e as GlimpseErrorWithHeaders:
            return (status(of: e.error.kind), e.error.message, e.headers)
        case let e as HTTPError:
            let message: String
            switch e.status {
            case .notFound: message = "The resource could not be found."
            case .contentTooLarge: message = "Request body is too large."
            case .badRequest: message = e.body ?? "The request could not be understood: malformed syntax."
            default: message = e.body ?? e.status.reasonPhrase
            }
            return (e.status, message, e.headers)
        case let e as any HTTPResponseError:
            return (e.status, e.status.reasonPhrase, [:])
        case is HTTPParserError:
            // Malformed framing that reached a handler (bad chunk sizes, unknown Transfer-Encoding).
            return (.badRequest, "The request could not be understood: malformed HTTP framing.", [:])
        case is CancellationError:
            return (.serviceUnavailable, "The request was cancelled.", [:])
        default:
            logger.error("unexpected error: \(String(reflecting: error))")
            return (
                .internalServerError,
                "The server has either erred or is incapable of performing the requested operation.", [:]
            )
        }
    }

    /// Glance's content negotiation for error bodies.
    static func prefersHTML(_ accept: String?) -> Bool {
        guard let accept = accept?.lowercased(), !accept.isEmpty else { return false }
        if accept.contains("application/json") { return false }
        return accept.contains("text/html") || accept.contains("*/*")
    }

    public static func status(of kind: GlimpseError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .notAcceptable: .notAcceptable
        case .conflict: .conflict
        case .gone: .gone
        case .tooLarge: .contentTooLarge
        case .unsupportedMedia: .unsupportedMediaType
        case .rangeNotSatisfiable: .rangeNotSatisfiable
        case .unavailable: .serviceUnavailable
        case .internalError: .internalServerError
        }
    }

    /// The JSON error response for `error` (for handlers that answer an error without throwing).
    public static func response(for error: GlimpseError) -> Response {
        var r = response(status: status(of: error.kind), message: error.message)
        if error.kind == .unauthorized {
            r.headers[.wwwAuthenticate] = "Keystone uri=\"\""
        }
        return r
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
