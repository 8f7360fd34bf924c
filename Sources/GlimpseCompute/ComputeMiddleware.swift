import GlimpseCore
import GlimpseHTTP
import HTTPTypes
import Hummingbird
import Logging

/// Everything the versioned Compute routes share, in one place:
/// - microversion negotiation (400/406 before anything else runs) and the version headers on every reply
///   (`OpenStack-API-Version: compute X`, `X-OpenStack-Nova-API-Version: X`, `Vary`);
/// - authentication (through the listener's `Authenticator`);
/// - Nova's error bodies: `{"itemNotFound": {"code": 404, "message": "..."}}` and the other fault names of
///   nova/api/openstack/wsgi.py `Fault._fault_names`.
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
        } catch let e as GlimpseError {
            return Self.fault(e, logger: context.logger)
        }
        do {
            response = try await authentication.handle(request, context: context, next: next)
        } catch {
            response = Self.response(for: error, logger: context.logger)
        }
        if let version {
            response.headers[APIVersion.headerName] = "compute \(version)"
            response.headers[APIVersion.legacyHeaderName] = version.description
            response.headers[.vary] = APIVersion.vary
        }
        return response
    }

    static func response(for error: any Error, logger: Logger) -> Response {
        switch error {
        case let e as GlimpseError:
            return fault(e, logger: logger)
        case let e as HTTPError:
            let message: String
            switch e.status {
            case .notFound: message = "The resource could not be found."
            case .contentTooLarge: message = "Request is too large."
            default: message = e.body ?? e.status.reasonPhrase
            }
            return fault(status: e.status, message: message)
        case let e as any HTTPResponseError:
            return fault(status: e.status, message: e.status.reasonPhrase)
        case is CancellationError:
            return fault(status: .serviceUnavailable, message: "The request was cancelled.")
        default:
            logger.error("unexpected error: \(String(reflecting: error))")
            return fault(
                status: .internalServerError,
                message: "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n\(type(of: error))")
        }
    }

    static func fault(_ e: GlimpseError, logger: Logger) -> Response {
        if e.kind == .internalError { logger.error("internal error: \(e.message)") }
        var r = fault(status: OpenStackErrorMiddleware<GlimpseRequestContext>.status(of: e.kind), message: e.message)
        if e.kind == .unauthorized { r.headers[.wwwAuthenticate] = "Keystone uri=\"\"" }
        return r
    }

    /// Nova's fault body. 401 comes from keystonemiddleware in a real deployment, with its own shape.
    static func fault(status: HTTPResponse.Status, message: String) -> Response {
        let body: CJSON
        if status == .unauthorized {
            body = .object([
                ("error", .object([("code", .int(401)), ("title", .string("Unauthorized")), ("message", .string(message))]))
            ])
        } else {
            body = .object([(faultName(status.code), .object([("code", .int(Int64(status.code))), ("message", .string(message))]))])
        }
        return Response(
            status: status, headers: [.contentType: "application/json; charset=UTF-8"], body: .init(byteBuffer: body.buffer))
    }

    static func faultName(_ code: Int) -> String {
        switch code {
        case 400: "badRequest"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "itemNotFound"
        case 405: "badMethod"
        case 409: "conflictingRequest"
        case 413, 429: "overLimit"
        case 415: "badMediaType"
        case 501: "notImplemented"
        case 503: "serviceUnavailable"
        default: "computeFault"
        }
    }
}
