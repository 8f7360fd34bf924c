import HTTPTypes
import Hummingbird

/// Keystone's error bodies: `{"error": {"code": 404, "message": ..., "title": "Not Found"}}`, with
/// `WWW-Authenticate: Keystone uri="<identity endpoint>"` on 401.
public struct KeystoneErrorRenderer: ErrorRenderer {
    let authURI: String

    public init(authURI: String) { self.authURI = authURI }

    public func response(for error: ErrorDescription, request: Request) -> Response {
        var response = withExtraHeaders(Self.response(status: error.status, message: Self.message(error)), error)
        if error.status == .unauthorized { response.headers[.wwwAuthenticate] = "Keystone uri=\"\(authURI)\"" }
        return response
    }

    /// Keystone's own wording where a route, not a resource, is missing or refuses the method.
    static func message(_ error: ErrorDescription) -> String {
        switch error.status {
        case .methodNotAllowed: "The method is not allowed for the requested URL."
        case .internalServerError where error.unexpected:
            "An unexpected error prevented the server from fulfilling your request."
        default: error.message
        }
    }

    public static func response(status: HTTPResponse.Status, message: String) -> Response {
        var w = JSONWriter()
        w.object { o in
            o.field("error", object: { e in
                e.field("code", Int64(status.code))
                e.field("message", message)
                e.field("title", status.reasonPhrase)
            })
        }
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: w.buffer))
    }
}
