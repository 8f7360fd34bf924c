import GlimpseHTTP
import Hummingbird
import Logging

/// Chooses how requests are authenticated and mounts the Identity API under `/identity` when Glimpse serves it.
enum IdentityWiring {
    static func mount(
        on router: Router<GlimpseRequestContext>, config: GlimpseConfiguration, logger: Logger
    ) async throws -> any Authenticator {
        switch config.auth {
        case .none:
            logger.warning("--auth none: X-User-Id, X-Project-Id and X-Roles headers are trusted as given. For development only; never expose this listener.")
            return TrustedHeaderAuthenticator()
        }
    }
}
