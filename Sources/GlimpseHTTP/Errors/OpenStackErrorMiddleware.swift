import GlimpseCore
import HTTPTypes
import Hummingbird
import Logging

/// An error that also carries response headers (`Accept-Patch` on 415, `Content-Range` on 416).
public struct GlimpseErrorWithHeaders: Error, Sendable {
    public var error: GlimpseError
    public var headers: HTTPFields

    public init(_ error: GlimpseError, headers: HTTPFields) {
        self.error = error
        self.headers = headers
    }
}

/// Maps every error that escapes a handler — the router's own 404 and 405 included — to the right status and the
/// body of the API the path belongs to, in one place: each path prefix has its renderer (`/identity` Keystone's,
/// `/compute` Nova's), everything else gets Glance's.
public struct OpenStackErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public struct Area: Sendable {
        let prefix: String
        let renderer: any ErrorRenderer

        public init(prefix: String, renderer: any ErrorRenderer) {
            self.prefix = prefix
            self.renderer = renderer
        }

        func contains(_ path: String) -> Bool {
            path == prefix || (path.hasPrefix(prefix) && path.dropFirst(prefix.count).hasPrefix("/"))
        }
    }

    let areas: [Area]
    let fallback: any ErrorRenderer

    public init(areas: [Area] = [], fallback: any ErrorRenderer = GlanceErrorRenderer()) {
        self.areas = areas
        self.fallback = fallback
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let path = request.uri.path
            let renderer = areas.first { $0.contains(path) }?.renderer ?? fallback
            return renderer.response(for: ErrorDescription(error, logger: context.logger), request: request)
        }
    }

    public static func status(of kind: GlimpseError.Kind) -> HTTPResponse.Status { ErrorDescription.status(of: kind) }

    /// Glance's JSON error response for `error` (for handlers that answer an error without throwing).
    public static func response(for error: GlimpseError) -> Response {
        var r = GlanceErrorRenderer.response(status: status(of: error.kind), message: error.message)
        if error.kind == .unauthorized {
            r.headers[.wwwAuthenticate] = "Keystone uri=\"\""
        }
        return r
    }

    public static func response(status: HTTPResponse.Status, message: String) -> Response {
        GlanceErrorRenderer.response(status: status, message: message)
    }
}
