import Foundation
import GlimpseStorage

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

/// Opens the stores the configuration names. Today that is the embedded default: SQLite files and a local
/// file store under the data directory.
enum StoreWiring {
    static func open(_ config: GlimpseConfiguration) throws -> GlimpseStores {
        let directory = config.dataDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return GlimpseStores(
            metadata: try SQLiteMetadataStore(path: directory + "/glimpse.sqlite"),
            blobs: try FileBlobStore(root: directory + "/blobs"),
            compute: try SQLiteComputeStore(path: directory + "/compute.sqlite"),
            metadefs: try SQLiteMetadefStore(path: directory + "/metadefs.sqlite"),
            identity: config.auth == .builtin ? try IdentitySQLiteStore(path: directory + "/identity.sqlite") : nil)
    }
}
