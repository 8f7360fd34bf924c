import GlimpseHTTP
import GlimpseImageAPI
import Hummingbird
import Logging

/// Mounts the Compute API under `/compute`.
enum ComputeWiring {
    static func mount(
        on router: Router<GlimpseRequestContext>, images: ImageService, authenticator: any Authenticator,
        config: GlimpseConfiguration, logger: Logger
    ) async throws {
    }
}
