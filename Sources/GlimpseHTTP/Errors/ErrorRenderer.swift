import HTTPTypes
import Hummingbird

/// Gives an `ErrorDescription` one API's error shape. The listener serves three APIs, each with the body its real
/// counterpart sends: Glance's (`GlanceErrorRenderer`), Keystone's (`KeystoneErrorRenderer`), Nova's
/// (`NovaErrorRenderer`).
public protocol ErrorRenderer: Sendable {
    func response(for error: ErrorDescription, request: Request) -> Response
}

extension ErrorRenderer {
    /// Copies the description's extra headers (`Allow`, `Accept-Patch`, `Content-Range`...) onto `response`.
    func withExtraHeaders(_ response: Response, _ error: ErrorDescription) -> Response {
        var response = response
        for field in error.headers where field.name != .contentType && field.name != .contentLength {
            response.headers.append(field)
        }
        return response
    }
}
