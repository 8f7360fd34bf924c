import GlimpseHTTP
import HTTPTypes
import Hummingbird

/// Renders every error of the identity routes as Keystone does (`KeystoneErrorRenderer`), with the identity
/// endpoint in `WWW-Authenticate` on 401 and `Retry-After` on a throttled authentication (429). The listener's
/// `OpenStackErrorMiddleware` gives the same shape to the router's own 404 and 405 under `/identity`.
public struct KeystoneErrorMiddleware: RouterMiddleware {
    public typealias Context = GlimpseRequestContext
    let renderer: KeystoneErrorRenderer

    public init(authURI: String) { renderer = KeystoneErrorRenderer(authURI: authURI) }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as AuthenticationThrottled {
            let description = ErrorDescription(
                status: .tooManyRequests, message: error.message,
                headers: [.retryAfter: String(error.retryAfterSeconds)])
            return renderer.response(for: description, request: request)
        } catch {
            return renderer.response(for: ErrorDescription(error, logger: context.logger), request: request)
        }
    }
}
