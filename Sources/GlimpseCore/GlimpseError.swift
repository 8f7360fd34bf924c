/// A domain failure. Each case names what went wrong in the caller's terms; the HTTP layer maps the kind to a status
/// in one place, so messages here are written for people.
public struct GlimpseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case badRequest          // 400
        case unauthorized        // 401
        case forbidden           // 403
        case notFound            // 404
        case methodNotAllowed    // 405
        case notAcceptable       // 406
        case conflict            // 409
        case gone                // 410
        case tooLarge            // 413
        case unsupportedMedia    // 415
        case rangeNotSatisfiable // 416
        case unavailable         // 503
        case internalError       // 500
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind): \(message)" }

    public static func badRequest(_ m: String) -> GlimpseError { .init(.badRequest, m) }
    public static func forbidden(_ m: String) -> GlimpseError { .init(.forbidden, m) }
    public static func notFound(_ m: String) -> GlimpseError { .init(.notFound, m) }
    public static func conflict(_ m: String) -> GlimpseError { .init(.conflict, m) }
    public static func tooLarge(_ m: String) -> GlimpseError { .init(.tooLarge, m) }
    public static func gone(_ m: String) -> GlimpseError { .init(.gone, m) }
    public static func unauthorized(_ m: String) -> GlimpseError { .init(.unauthorized, m) }
    public static func unsupportedMedia(_ m: String) -> GlimpseError { .init(.unsupportedMedia, m) }
    public static func internalError(_ m: String) -> GlimpseError { .init(.internalError, m) }

    public static func noImage(_ id: String) -> GlimpseError { .notFound("No image found with ID \(id)") }
}
