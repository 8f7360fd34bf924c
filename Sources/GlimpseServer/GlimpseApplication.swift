import Foundation
import GlimpseCore
import GlimpseHTTP
import GlimpseImageAPI
import GlimpseStorage
import Hummingbird
import Logging
import NIOCore

/// Builds the Glimpse application: stores, recovery, routes and the listener.
public enum GlimpseApplication {
    /// Opens the embedded stores (SQLite + local files) under `directory`, creating it if needed.
    public static func openEmbeddedStores(at directory: String) throws -> GlimpseStores {
        try StoreWiring.open(GlimpseConfiguration(host: "127.0.0.1", port: 0, dataDirectory: directory, auth: .none))
    }

    public static func build(
        _ config: GlimpseConfiguration, logger: Logger
    ) async throws -> some ApplicationProtocol {
        try DataDirectoryPermissions.secure(config.dataDirectory, logger: logger)
        let stores = try await StoreWiring.open(config, logger: logger)
        if let bucket = stores.blobs as? S3BlobStore, config.limits.imageSizeCap > bucket.largestObject {
            // A notice, not a warning: the defaults (16 MiB parts, 1 TiB cap) meet it.
            logger.notice(
                "images above \(bucket.largestObject) bytes (10,000 parts of \(bucket.partSize)) cannot be stored in S3, below --image-size-cap \(config.limits.imageSizeCap): raise part-size= in --store")
        }
        let cache = try await ImageCache.open(
            directory: config.dataDirectory + "/cache", source: stores.blobs, metadata: stores.metadata, logger: logger)
        let node = NodeMembership(
            nodeID: try NodeIdentity.load(dataDirectory: config.dataDirectory),
            address: config.nodeAddress ?? "http://\(config.host.contains(":") ? "[\(config.host)]" : config.host):\(config.port)",
            sharesStore: config.database != nil)
        let images = ImageService(
            metadata: stores.metadata, blobs: stores.blobs, limits: config.limits, importOptions: config.imports,
            cache: cache, node: node, orphanDataGrace: config.gcGrace, logger: logger)
        try await images.recover()
        logger.notice("node \(node.nodeID) at \(node.address); image data in \(config.imageStore ?? config.dataDirectory + "/blobs")")

        let router = Router(context: GlimpseRequestContext.self)
        router.add(middleware: RequestLoggingMiddleware())
        router.add(
            middleware: OpenStackErrorMiddleware(areas: [
                .init(prefix: "/identity", renderer: KeystoneErrorRenderer(authURI: config.publicURL + "/identity")),
                .init(prefix: "/compute", renderer: NovaErrorRenderer()),
            ]))
        let routeTable = RouteTable()
        router.add(middleware: MethodNotAllowedMiddleware(table: routeTable))
        let authenticator = try await IdentityWiring.mount(on: router, config: config, store: stores.identity, logger: logger)
        try await ComputeWiring.mount(
            on: router, images: images, store: stores.compute, authenticator: authenticator, config: config,
            logger: logger)
        VersionsController(publicURL: config.publicURL).addRoutes(to: router)
        HealthcheckController().addRoutes(to: router)
        let v2 = router.group("v2").add(middleware: AuthenticationMiddleware(authenticator))
        ImagesController(service: images, publicURL: config.publicURL).addRoutes(to: v2)
        SchemasController().addRoutes(to: v2)
        MetadefsController(service: MetadefService(store: stores.metadefs), publicURL: config.publicURL).addRoutes(to: v2)
        ImportController(service: images).addRoutes(to: v2)
        LocationsController(service: images).addRoutes(to: v2)
        CacheController(service: images)?.addRoutes(to: v2)

        if let registry = config.metricsRegistry {
            router.get("metrics") { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                    body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
            }
        }

        routeTable.load(from: router)
        logger.notice("Glimpse serves the Image API at \(config.publicURL) (export OS_IMAGE_URL=\(config.publicURL))")
        logger.notice("data directory: \(config.dataDirectory)")
        return Application(
            responder: FormQueryResponder(inner: VersionPrefixResponder(inner: router.buildResponder())),
            server: .http1(configuration: ListenerWiring.http1Configuration(config, logger: logger)),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: nil),
            services: [NodeHeartbeatService(images: images, collectionInterval: config.gcInterval, logger: logger)],
            onServerRunning: { channel in
                // Without --node-address the other nodes reach this one where its listener is bound (port 0 too).
                guard config.nodeAddress == nil, let bound = channel.localAddress, let port = bound.port else { return }
                let ip = bound.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? config.host
                do {
                    try await images.advertise(address: "http://\(ip):\(port)")
                } catch {
                    logger.warning("node address not announced: \(error)")
                }
            },
            logger: logger)
    }
}
