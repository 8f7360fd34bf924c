import GlimpseCore
import GlimpseHTTP
import HTTPTypes
import Hummingbird
import Logging

/// Everything the versioned Compute routes share, in one place:
/// - microversion negotiation (400/406 before anything else runs) and the version headers on every reply
///   (`OpenStack-API-Version: compute X`, `X-OpenStack-Nova-API-Version: X`, `Vary`);
/// - authentication (through the listener's `Authenticator`);
/// - Nova's error bodies (`NovaErrorRenderer`), with the version headers, for every error of these routes.
public struct ComputeAPIMiddleware: RouterMiddleware {
    public typealias Context = GlimpseRequestContext
    let authentication: AuthenticationMiddleware

    public init(authenticator: any Authenticator) {
        authentication = AuthenticationMiddleware(authenticator)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let version: APIVersion?
        var response: Response
        do {
            version = try APIVersion.negotiate(request.headers)
        } catch {
            return Self.response(for: error, request: request, logger: context.logger)
        }
        do {
            response = try await authentication.handle(request, context: context, next: next)
        } catch {
            response = Self.response(for: error, request: request, logger: context.logger)
        }
        if let version {
            response.headers[APIVersion.headerName] = "compute \(version)"
            response.headers[APIVersion.legacyHeaderName] = version.description
            response.headers[.vary] = APIVersion.vary
        }
        return response
    }

    static let renderer = NovaErrorRenderer()

    static func response(for error: any Error, request: Request, logger: Logger) -> Response {
        renderer.response(for: ErrorDescription(error, logger: logger), request: request)
    }
}
