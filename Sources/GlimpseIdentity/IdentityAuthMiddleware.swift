import GlimpseCore
import Hummingbird

/// Authenticates a request to the identity API once: `X-Auth-Token` must be a valid token; its context is put
/// on the request context (and the caller on the shared one) for the handlers.
struct IdentityAuthMiddleware: RouterMiddleware {
    typealias Context = IdentityRequestContext
    let service: IdentityService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = request.headers[IdentityController.authToken], let auth = try await service.validate(token) else {
            throw GlimpseError.unauthorized("The request you have made requires authentication.")
        }
        var context = context
        context.auth = auth
        context.glimpse.caller = auth.caller
        context.glimpse.authToken = token
        return try await next(request, context)
    }
}
