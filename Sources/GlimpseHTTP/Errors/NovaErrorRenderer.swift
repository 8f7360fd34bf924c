import HTTPTypes
import Hummingbird

/// Nova's fault bodies: `{"itemNotFound": {"code": 404, "message": "..."}}`, with the fault names of
/// nova/api/openstack/wsgi.py. A 401 comes from keystonemiddleware in a real deployment, in Keystone's shape.
public struct NovaErrorRenderer: ErrorRenderer {
    public init() {}

    public func response(for error: ErrorDescription, request: Request) -> Response {
        var message = error.message
        if error.unexpected {
            message = "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible."
        } else if error.status == .contentTooLarge, message == "Request body is too large." {
            message = "Request is too large."
        }
        var response = withExtraHeaders(Self.response(status: error.status, message: message), error)
        if error.status == .unauthorized { response.headers[.wwwAuthenticate] = "Keystone uri=\"\"" }
        return response
    }

    public static func response(status: HTTPResponse.Status, message: String) -> Response {
        let body: OrderedJSON
        if status == .unauthorized {
            body = .object([
                ("error", .object([("code", .int(401)), ("title", .string("Unauthorized")), ("message", .string(message))]))
            ])
        } else {
            body = .object([
                (faultName(status.code), .object([("code", .int(Int64(status.code))), ("message", .string(message))]))
            ])
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
