import GlimpseCompute
import GlimpseHTTP
import GlimpseImageAPI
import GlimpseStorage
import Hummingbird
import Logging

/// Mounts the Compute API under `/compute`.
enum ComputeWiring {
    static func mount(
        on router: Router<GlimpseRequestContext>, images: ImageService, store: any ComputeStore,
        authenticator: any Authenticator, config: GlimpseConfiguration, logger: Logger
    ) async throws {
        let compute = try await ComputeAPI.open(
            dataDirectory: config.dataDirectory, store: store, images: images, publicURL: config.publicURL,
            snapshotFormat: config.snapshotFormat, hypervisor: config.hypervisor, qemu: config.qemu, logger: logger)
        compute.addRoutes(to: router, authenticator: authenticator)
        logger.notice(
            "Glimpse serves the Compute API v2.1 (microversions \(APIVersion.min)–\(APIVersion.max)) at \(config.publicURL)/compute/v2.1; driver: \(compute.service.driver.name)")
        if !compute.service.driver.runsGuests {
            logger.notice("the compute driver runs no guest: servers have real qcow2 disks but no CPU; running servers snapshot crash-consistent")
        }
    }
}
