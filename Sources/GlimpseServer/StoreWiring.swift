import Foundation
import GlimpsePostgres
import GlimpseStorage
import Logging

/// Every store the application uses, built in one place (`StoreWiring`) from the configuration; nothing else
/// opens a store.
public struct GlimpseStores: Sendable {
    public var metadata: any MetadataStore
    public var blobs: any BlobStore
    public var compute: any ComputeStore
    public var metadefs: any MetadefStore
    /// Only with the built-in identity (`--auth builtin`).
    public var identity: (any IdentityStore)?
}

/// Opens the stores the configuration names: by default the embedded ones (SQLite files and a local file store
/// under the data directory); with `--database`, image metadata, compute records, metadefs and the built-in
/// identity in PostgreSQL, and image data in `--store` (shared by the nodes) or under the data directory.
enum StoreWiring {
    static func open(_ config: GlimpseConfiguration, logger: Logger) async throws -> GlimpseStores {
        let stores = try await openStores(config, logger: logger)
        if let bucket = stores.blobs as? S3BlobStore {
            logger.notice("image data in \(bucket.location.description)")
            try await bucket.createBucketIfMissing()
        }
        return stores
    }

    private static func openStores(_ config: GlimpseConfiguration, logger: Logger) async throws -> GlimpseStores {
        guard let database = config.database else { return try open(config) }
        logger.notice(
            "image metadata, compute records, metadefs\(config.auth == .builtin ? " and the built-in identity" : "") in PostgreSQL at \(database.redacted)")
        let metadata = try await PostgresMetadataStore.open(database.clientConfiguration, logger: logger)
        let compute = try await PostgresComputeStore.open(database.clientConfiguration, logger: logger)
        let metadefs = try await PostgresMetadefStore.open(database.clientConfiguration, logger: logger)
        var stores = try openLocal(config, metadata: metadata, compute: compute, metadefs: metadefs, identity: false)
        if config.auth == .builtin {
            stores.identity = try await PostgresIdentityStore.open(database.clientConfiguration, logger: logger)
        }
        return stores
    }

    /// The embedded stores only.
    static func open(_ config: GlimpseConfiguration) throws -> GlimpseStores {
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        return try openLocal(
            config, metadata: SQLiteMetadataStore(path: config.dataDirectory + "/glimpse.sqlite"),
            compute: SQLiteComputeStore(path: config.dataDirectory + "/compute.sqlite"), metadefs: nil)
    }

    private static func openLocal(
        _ config: GlimpseConfiguration, metadata: any MetadataStore, compute: any ComputeStore,
        metadefs: (any MetadefStore)?, identity: Bool = true
    ) throws -> GlimpseStores {
        let directory = config.dataDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return GlimpseStores(
            metadata: metadata,
            blobs: try openBlobs(config.imageStore, dataDirectory: directory, writer: try NodeIdentity.load(dataDirectory: directory)),
            compute: compute,
            metadefs: try metadefs ?? SQLiteMetadefStore(path: directory + "/metadefs.sqlite"),
            identity: identity && config.auth == .builtin ? try IdentitySQLiteStore(path: directory + "/identity.sqlite") : nil)
    }

    /// Image data in `--store`: an `s3://` bucket (credentials from the environment or the URL's `credentials=`
    /// file), else a directory (default: `<data-dir>/blobs`).
    static func openBlobs(_ store: String?, dataDirectory: String, writer: String) throws -> any BlobStore {
        guard let store, store.hasPrefix("s3://") else {
            return try FileBlobStore(root: store ?? dataDirectory + "/blobs", writer: writer)
        }
        let location = try S3Location(url: store)
        let credentials = try S3BlobStore.credentials(
            for: location, environment: ProcessInfo.processInfo.environment,
            readFile: { try String(contentsOfFile: $0, encoding: .utf8) })
        return try S3BlobStore(
            location: location, credentials: credentials, writer: writer, partSize: location.partSize ?? 16 << 20,
            partsInFlight: location.partsInFlight ?? 2)
    }
}
