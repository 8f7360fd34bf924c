// GlimpseServer owns configuration and wiring: it opens the stores, recovers from crashes, builds the one HTTP
// listener that serves the Image API at `/`, Identity at `/identity` and Compute at `/compute`, and runs it.

import Foundation
import GlimpseCompute
import GlimpseHTTP
import GlimpseImageAPI
import GlimpsePostgres
import Prometheus

/// Everything `glimpse serve` can be told.
public struct GlimpseConfiguration: Sendable {
    public enum AuthMode: String, Sendable, CaseIterable {
        /// Development only: trust X-User-Id / X-Project-Id / X-Roles headers.
        case none
        /// Glimpse's own Identity API v3 subset at `/identity` issues and validates the tokens (the default of `glimpse serve`).
        case builtin
        /// Tokens are validated against an external Keystone (`--keystone-url`).
        case keystone
    }

    public var host: String
    public var port: Int
    public var dataDirectory: String
    /// The URL clients reach this listener at; version documents and `Location` headers are built from it.
    public var publicURL: String
    public var auth: AuthMode
    public var limits: ImageLimits
    /// Where `/metrics` reads Prometheus metrics from; nil serves no metrics.
    public var metricsRegistry: PrometheusCollectorRegistry?
    /// Image import methods and `web-download` filtering.
    public var imports: ImportOptions = .init()
    /// Disk format of server snapshots (`qemu-img convert -O`): qcow2 (default) or raw.
    public var snapshotFormat: String
    /// The compute driver (`--hypervisor`). Overlay unless set: a library user boots nothing without asking;
    /// `glimpse serve` defaults to QEMU when it is installed.
    public var hypervisor: HypervisorKind = .overlay
    /// How the QEMU driver runs guests (`--accel`, `--max-guests`, `--shutdown-timeout`).
    public var qemu: QemuOptions = .init()
    /// Built-in identity and external Keystone settings (see IdentityWiring.swift).
    public var identity: IdentitySettings = .init()
    /// How long a connection may wait on its client (idle, request head, body stall, send).
    public var connectionTimeouts: ConnectionTimeouts = .init()
    /// The most connections open at once; nil sizes it from the open-file limit
    /// (`OpenFileLimit.defaultMaximumConnections`).
    public var maxConnections: Int?
    /// Image metadata and compute records in this PostgreSQL database (`--database`) instead of SQLite under the
    /// data directory.
    public var database: PostgresDatabaseURL?
    /// Where image data lives (`--store`): a directory, shared by every node of a deployment; nil keeps it in
    /// `<data-dir>/blobs`.
    public var imageStore: String?
    /// Where the other nodes reach this node's own listener (`--node-address`); nil: `http://HOST:PORT`.
    public var nodeAddress: String?
    /// Unowned image data younger than this is never garbage-collected (`--gc-grace`).
    public var gcGrace: Duration = .seconds(3600)
    /// About how often each node sweeps for unowned image data (`--gc-interval`; each sweep is jittered).
    public var gcInterval: Duration = .seconds(600)

    public init(
        host: String = "127.0.0.1", port: Int = 9292, dataDirectory: String? = nil, publicURL: String? = nil,
        auth: AuthMode = .none, limits: ImageLimits = .init(), snapshotFormat: String = "qcow2"
    ) {
        self.snapshotFormat = snapshotFormat
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory ?? Self.defaultDataDirectory()
        let base = publicURL ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        self.publicURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.auth = auth
        self.limits = limits
    }

    /// `$XDG_DATA_HOME/glimpse`, else `~/.local/share/glimpse`.
    public static func defaultDataDirectory() -> String {
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/glimpse" }
        let home = env["HOME"] ?? NSHomeDirectory()
        return home + "/.local/share/glimpse"
    }
}
