import GlimpseCore
import GlimpseHTTP
import HTTPTypes
import Hummingbird

/// The 401 that Keystone-fronted services answer: `WWW-Authenticate: Keystone uri="<identity endpoint>"`.
public func keystoneUnauthorized(authURI: String) -> HTTPError {
    HTTPError(
        .unauthorized, headers: [.wwwAuthenticate: "Keystone uri=\"\(authURI)\""],
        message: "The request you have made requires authentication.")
}

/// `--auth builtin`: `X-Auth-Token` must be a token Glimpse issued; its user, project and effective roles
/// become the `Caller`.
public struct BuiltinTokenAuthenticator: Authenticator {
    let service: IdentityService
    let authURI: String

    public init(service: IdentityService) {
        self.service = service
        self.authURI = service.options.publicURL + "/identity"
    }

    public func authenticate(_ headers: HTTPFields) async throws -> Caller? {
        guard let token = headers[IdentityController.authToken], let auth = try await service.validate(token) else {
            throw keystoneUnauthorized(authURI: authURI)
        }
        return auth.caller
    }
}
