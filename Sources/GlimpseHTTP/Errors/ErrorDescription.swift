import GlimpseCore
import HTTPTypes
import Hummingbird
import Logging
import NIOHTTP1

/// What an error means to a client — status, message, extra headers — before any API gives it its shape.
/// Every error that reaches the HTTP layer is described here once; `ErrorRenderer`s turn the description into
/// Glance's, Keystone's or Nova's body.
public struct ErrorDescription: Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    public var headers: HTTPFields
    /// Neither the domain nor the HTTP layer knows the error: a bug. Each API words this its own way.
    public var unexpected: Bool

    public init(status: HTTPResponse.Status, message: String, headers: HTTPFields = [:], unexpected: Bool = false) {
        self.status = status
        self.message = message
        self.headers = headers
        self.unexpected = unexpected
    }

    /// Describes any error; logs internal and unexpected ones (the request's logger carries its id).
    public init(_ error: any Error, logger: Logger) {
        switch error {
        case let e as GlimpseError:
            if e.kind == .internalError { logger.error("internal error: \(e.message)") }
            self.init(status: Self.status(of: e.kind), message: e.message)
        case let e as GlimpseErrorWithHeaders:
            self.init(status: Self.status(of: e.error.kind), message: e.error.message, headers: e.headers)
        case let e as HTTPError:
            let message: String
            switch e.status {
            case .notFound: message = "The resource could not be found."
            case .contentTooLarge: message = "Request body is too large."
            case .badRequest: message = e.body ?? "The request could not be understood: malformed syntax."
            default: message = e.body ?? e.status.reasonPhrase
            }
            self.init(status: e.status, message: message, headers: e.headers)
        case let e as any HTTPResponseError:
            self.init(status: e.status, message: e.status.reasonPhrase)
        case is HTTPParserError:
            // Malformed framing that reached a handler (bad chunk sizes, unknown Transfer-Encoding).
            self.init(status: .badRequest, message: "The request could not be understood: malformed HTTP framing.")
        case is CancellationError:
            self.init(status: .serviceUnavailable, message: "The request was cancelled.")
        default:
            logger.error("unexpected error: \(String(reflecting: error))")
            self.init(
                status: .internalServerError,
                message: "The server has either erred or is incapable of performing the requested operation.",
                unexpected: true)
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
}
