// GlimpseCompute owns the Compute API v2.1 subset under /compute: flavors, servers, actions, hypervisor drivers.

import Foundation
import GlimpseHTTP
import GlimpseImageAPI
import GlimpseStorage
import Hummingbird
import Logging

/// The Compute API as a unit: store, driver, service and routes, opened under one data directory.
public struct ComputeAPI: Sendable {
    public let service: ServerService
    public let controller: ComputeController

    /// Serves `store`, with `<dataDirectory>/compute/` for disks, base files and temporary files, with the
    /// driver `hypervisor` names (or `driver` when given), and recovers what a restart interrupted.
    public static func open(
        dataDirectory: String, store: any ComputeStore, images: ImageService, publicURL: String, snapshotFormat: String = "qcow2",
        hypervisor: HypervisorKind = .overlay, qemu: QemuOptions = .init(), driver: (any HypervisorDriver)? = nil,
        logger: Logger
    ) async throws -> ComputeAPI {
        let dir = dataDirectory + "/compute"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let driver: any HypervisorDriver =
            switch (driver, hypervisor) {
            case (let given?, _): given
            case (nil, .qemu): try QemuDriver(directory: dir, scratch: dir + "/tmp", options: qemu, logger: logger)
            case (nil, .overlay): try OverlayDriver(directory: dir + "/disks", scratch: dir + "/tmp", logger: logger)
            }
        if Subprocess.which("qemu-img") == nil {
            logger.warning("qemu-img is not installed: servers cannot be built (Debian: apt-get install qemu-utils)")
        }
        let service = try ServerService(
            store: store, images: images, driver: driver, directory: dir, snapshotFormat: snapshotFormat, logger: logger)
        // Registered before recovery boots the servers recorded running, so none of their stops goes unseen.
        await service.watchGuestLifecycle()
        try await service.recover()
        try await service.deleteLeftoverBootTestServers()
        return ComputeAPI(service: service, controller: ComputeController(service: service, publicURL: publicURL))
    }

    public func addRoutes(to router: Router<GlimpseRequestContext>, authenticator: any Authenticator) {
        controller.addRoutes(to: router, authenticator: authenticator)
    }
}
