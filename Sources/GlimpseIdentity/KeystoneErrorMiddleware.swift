import GlimpseCore
import GlimpseHTTP
import HTTPTypes
import Hummingbird

/// Renders errors under `/identity` as Keystone does: `{"error": {"code": 404, "message": ..., "title": ...}}`,
/// with `WWW-Authenticate: Keystone uri=...` on 401.
public struct KeystoneErrorMiddleware: RouterMiddleware {
    public typealias Context = GlimpseRequestContext
    let authURI: String

    public init(authURI: String) { self.authURI = authURI }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as GlimpseError {
            if error.kind == .internalError { context.logger.error("internal error: \(error.message)") }
            return response(OpenStackErrorMiddleware<Context>.status(of: error.kind), error.message)
        } catch let error as AuthenticationThrottled {
            var r = response(.tooManyRequests, error.message)
            r.headers[.retryAfter] = String(error.retryAfterSeconds)
            return r
        } catch let error as HTTPError {
            return response(error.status, error.body ?? error.status.reasonPhrase)
        }
    }

    func response(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var w = JSONWriter()
        w.object { o in
            o.field("error", object: { e in
                e.field("code", Int64(status.code))
                e.field("message", message)
                e.field("title", status.reasonPhrase)
            })
        }
        var r = Response.json(w.buffer, status: status)
        if status == .unauthorized { r.headers[.wwwAuthenticate] = "Keystone uri=\"\(authURI)\"" }
        return r
    }
}
