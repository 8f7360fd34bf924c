import HTTPTypes
import GlimpseCore
import Hummingbird
import Logging
import NIOCore

/// Maps every error that escapes a handler to an OpenStack-shaped JSON body
/// (`{"message": ..., "code": "404 Not Found", "title": "Not Found"}`) with the right status, in one place.
public struct OpenStackErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as GlimpseError {
            if error.kind == .internalError { context.logger.error("internal error: \(error.message)") }
            return Self.response(for: error)
        } catch let error as HTTPError {
            let status = error.status
            let message: String
            switch status {
            case .notFound: message = "The resource could not be found."
            case .contentTooLarge: message = "Request body is too large."
            case .badRequest: message = error.body ?? "The request could not be understood: malformed syntax."
            default: message = error.body ?? status.reasonPhrase
            }
            var response = Self.response(status: status, message: message)
            for field in error.headers { response.headers.append(field) }
            return response
        } catch let error as any HTTPResponseError {
            let status = error.status
            return Self.response(status: status, message: status.reasonPhrase)
        } catch is CancellationError {
            return Self.response(status: .serviceUnavailable, message: "The request was cancelled.")
        } catch {
            context.logger.error("unexpected error: \(String(reflecting: error))")
            return Self.response(status: .internalServerError, message: "The server has either erred or is incapable of performing the requested operation.")
        }
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
}
