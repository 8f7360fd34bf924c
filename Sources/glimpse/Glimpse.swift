// The `glimpse` executable: argument parsing and subcommands; everything else lives in the modules.

import ArgumentParser
#if canImport(Glibc)
// malloc.h is not part of the Glibc module.
@_silgen_name("mallopt") func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
import Foundation
import GlimpseCompute
import GlimpseHTTP
import GlimpseImageAPI
import GlimpsePostgres
import GlimpseServer
import Hummingbird
import Logging
import Metrics
import Prometheus

@main
struct Glimpse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An OpenStack-compatible image and snapshot service.",
        subcommands: [Serve.self, Admin.self, ImageCommand.self],
        defaultSubcommand: nil)

    /// Usage errors exit 2, as scripts expect of a command line tool (ArgumentParser's own code is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

extension GlimpseConfiguration.AuthMode: ExpressibleByArgument {}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the OpenStack APIs on one listener.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 9292
    @Option(help: "Where metadata and image data live (default: $XDG_DATA_HOME/glimpse or ~/.local/share/glimpse).")
    var dataDir: String?
    @Option(help: "The URL clients use to reach this listener (default: http://HOST:PORT).") var publicURL: String?
    @Option(help: """
        How requests are authenticated: builtin (default: Glimpse's own Identity API v3 at /identity; the admin \
        password comes from env GLIMPSE_ADMIN_PASSWORD or is generated, and DATA_DIR/openrc is written), \
        keystone (validate tokens against --keystone-url), or none (DEVELOPMENT ONLY: trusts \
        X-User-Id/X-Project-Id/X-Roles headers, no authentication at all).
        """)
    var auth: GlimpseConfiguration.AuthMode = .builtin
    @Option(help: "Lifetime of tokens the built-in identity issues, in seconds.") var tokenExpiration = 3600
    @Option(help: "Built-in identity: lock a user after this many failed passwords in a row (Keystone's [security_compliance] lockout_failure_attempts; default: no lockout).")
    var lockoutFailureAttempts: Int?
    @Option(help: "Built-in identity: seconds a locked user stays locked (lockout_duration).") var lockoutDuration = 1800
    @Option(help: "Built-in identity: failed authentications from one address per window after which it gets 429 (0: no limit).")
    var authFailureLimit = 10
    @Option(help: "Built-in identity: the window of --auth-failure-limit, in seconds.") var authFailureWindow = 60
    @Flag(help: "Built-in identity: count failures from loopback clients toward --auth-failure-limit, and let the lockout lock the bootstrap admin on loopback too (by default the operator on the host can always log in).")
    var authLimitLoopback = false
    @Option(help: "--auth keystone: Keystone's URL, e.g. http://127.0.0.1:5000 (or env GLIMPSE_KEYSTONE_URL).")
    var keystoneURL: String?
    @Option(help: "--auth keystone: service user that validates tokens (or env GLIMPSE_KEYSTONE_USER).")
    var keystoneUser: String?
    @Option(help: "--auth keystone: its password (prefer env GLIMPSE_KEYSTONE_PASSWORD: arguments are visible to ps).")
    var keystonePassword: String?
    @Option(help: "--auth keystone: its project (or env GLIMPSE_KEYSTONE_PROJECT).") var keystoneProject: String?
    @Option(help: "Largest image accepted, in bytes (Glance's image_size_cap).") var imageSizeCap: Int64 = 1 << 40
    @Option(help: "Bytes of image data each project may store (default: unlimited).") var projectQuota: Int64?
    @Option(help: """
        Refuse image data that is not the declared disk_format (Glance's [image_format] \
        require_image_format_match). Unsafe images (backing or data files, VMDK extents) are refused either way.
        """)
    var requireImageFormatMatch = true
    @Option(help: "Disk format of server snapshots: qcow2 or raw.") var snapshotFormat = "qcow2"
    @Option(help: """
        Compute driver: qemu (every server a QEMU process) or overlay (real disks, nothing boots them). \
        Default: qemu when qemu-system-x86_64 is installed, else overlay.
        """)
    var hypervisor: String?
    @Option(help: "--hypervisor qemu: accelerator, auto (KVM when a probe shows it runs guests, else TCG), kvm or tcg.")
    var accel = "auto"
    @Option(help: "--hypervisor qemu: the most servers on this node (default: as many as the host's memory holds by flavor RAM).")
    var maxGuests: Int?
    @Option(help: "--hypervisor qemu: seconds a stop waits for the guest to power off before QEMU is ended.")
    var shutdownTimeout = 60
    @Option(help: "Comma-separated ports web-download imports and http locations may fetch from (default: 80,443).")
    var importAllowedPorts: String?
    @Option(
        help: """
            Comma-separated hosts web-download imports and http locations may fetch from, and only these, matched \
            exactly against the URL's host (127.0.0.1 allows http://127.0.0.1/..., not 127.1 or localhost; IPv6 \
            with or without brackets). Listed hosts may resolve to any address, loopback and private included. Default: any \
            host whose every address is public (no loopback, link-local, private, CGNAT, multicast, unspecified).
            """)
    var importAllowedHosts: String?
    @Option(help: """
        Seconds a kept-alive connection may wait between requests before it is closed. Shorter than Glance's \
        client_socket_timeout (900): clients reconnect transparently, and an idle connection holds a file descriptor.
        """)
    var idleTimeout = 120
    @Option(help: "Seconds from connecting (or from a next request's first byte) to a complete request head.")
    var requestHeadTimeout = 30
    @Option(help: """
        Seconds without a byte while a request body is expected before the connection is closed (a stalled upload \
        then fails and its image returns to queued).
        """)
    var bodyStallTimeout = 120
    @Option(help: """
        Seconds response data may stay unacknowledged (a client that stopped reading a download) before the \
        connection is reset. Slow readers that keep reading are never cut off.
        """)
    var sendTimeout = 120
    @Option(help: """
        Most connections open at once (default: from the open-file limit, which is raised to its hard limit at \
        start, less a quarter kept for files). Past it the longest-idle connection is closed for the new one, or \
        the new one is refused at once when every connection is inside a request.
        """)
    var maxConnections: Int?
    @Option(help: """
        Keep image metadata, compute records and metadefs in PostgreSQL: postgresql://USER@HOST:PORT/DBNAME, or postgresql://USER@/DBNAME?host=/socket/dir \
        (or env GLIMPSE_DATABASE_URL). No password in the URL: it comes from env PGPASSWORD or --database-password-file. \
        Default: SQLite under --data-dir.
        """)
    var database: String?
    @Option(help: "--database: file whose first line is the database password (else env PGPASSWORD).")
    var databasePasswordFile: String?
    @Option(help: """
        Where image data lives: a directory (default: DATA_DIR/blobs), or an S3 bucket: \
        s3://BUCKET?endpoint=http://127.0.0.1:8080&region=us-east-1[&addressing=path|virtual-host][&credentials=FILE][&part-size=16M] \
        (part-size: 5M to 5G, at most 10,000 parts per image; access key from env AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or FILE in the AWS credentials format; \
        the bucket is created if missing). Nodes of one deployment (sharing --database) share it, e.g. on an NFS \
        mount or one bucket; each node's uploads in progress are marked with its node id.
        """)
    var store: String?
    @Option(help: "Where the other nodes reach this node's own listener (default: http://HOST:PORT).")
    var nodeAddress: String?
    @Option(help: """
        Seconds unowned image data must be old before garbage collection removes it: objects of no image with data \
        (a crash between the store and the database) and unfinished uploads of no live node. Every node sweeps at \
        start and about every --gc-interval seconds.
        """)
    var gcGrace = 3600
    @Option(help: "Seconds between a node's garbage-collection sweeps of image data (each one jittered by up to 25 %).")
    var gcInterval = 600
    @Flag(help: "Do not serve Prometheus metrics at /metrics.") var noMetrics = false
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"

    func validate() throws {
        for (name, value) in [
            ("--idle-timeout", idleTimeout), ("--request-head-timeout", requestHeadTimeout),
            ("--body-stall-timeout", bodyStallTimeout), ("--send-timeout", sendTimeout), ("--gc-interval", gcInterval),
        ] where value <= 0 {
            throw ValidationError("\(name) must be a positive number of seconds")
        }
        if let maxConnections, maxConnections <= 0 { throw ValidationError("--max-connections must be positive") }
        try GarbageCollect.validateGrace(gcGrace, option: "--gc-grace")
        _ = try databaseURL()
    }

    /// `--database` (or GLIMPSE_DATABASE_URL) with its password from the file or PGPASSWORD; nil for SQLite.
    func databaseURL() throws -> PostgresDatabaseURL? {
        try Self.databaseURL(database, passwordFile: databasePasswordFile)
    }

    /// `database` (or GLIMPSE_DATABASE_URL) with its password from `passwordFile` or PGPASSWORD; nil for SQLite.
    static func databaseURL(_ database: String?, passwordFile databasePasswordFile: String?) throws -> PostgresDatabaseURL? {
        let environment = ProcessInfo.processInfo.environment
        guard let text = database ?? environment["GLIMPSE_DATABASE_URL"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            if databasePasswordFile != nil { throw ValidationError("--database-password-file needs --database") }
            return nil
        }
        do {
            var url = try PostgresDatabaseURL(parsing: text)
            try url.loadPassword(passwordFile: databasePasswordFile, environment: environment)
            return url
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        #if canImport(Glibc)
        // glibc gives each busy thread its own malloc arena; with NIO's and the hash pool's threads that multiplies
        // resident memory during uploads for no gain.
        _ = glibcMallopt(-8 /* M_ARENA_MAX */, 2)
        #endif
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "glimpse")
        var config = GlimpseConfiguration(
            host: host, port: port, dataDirectory: dataDir, publicURL: publicURL, auth: auth,
            limits: ImageLimits(
                imageSizeCap: imageSizeCap, projectQuota: projectQuota,
                requireImageFormatMatch: requireImageFormatMatch),
            snapshotFormat: snapshotFormat)
        guard let kind = hypervisor.map({ HypervisorKind(rawValue: $0) }) ?? HypervisorKind.hostDefault else {
            throw ValidationError("--hypervisor must be qemu or overlay")
        }
        guard let accelerator = QemuAccelerator(rawValue: accel) else { throw ValidationError("--accel must be auto, kvm or tcg") }
        if let maxGuests, maxGuests <= 0 { throw ValidationError("--max-guests must be positive") }
        guard shutdownTimeout >= 0 else { throw ValidationError("--shutdown-timeout must not be negative") }
        config.hypervisor = kind
        config.qemu = QemuOptions(accelerator: accelerator, maxGuests: maxGuests, shutdownTimeout: .seconds(shutdownTimeout))
        config.identity.tokenExpiration = tokenExpiration
        config.identity.lockoutFailureAttempts = lockoutFailureAttempts
        config.identity.lockoutDuration = lockoutDuration
        config.identity.authFailureLimit = authFailureLimit
        config.identity.authFailureWindow = authFailureWindow
        config.identity.authLimitLoopback = authLimitLoopback
        config.identity.keystoneURL = keystoneURL
        config.identity.keystoneUser = keystoneUser
        config.identity.keystonePassword = keystonePassword
        config.identity.keystoneProject = keystoneProject
        let openFileLimit = OpenFileLimit.raiseToHardLimit()
        logger.info("open-file limit: \(openFileLimit.map(String.init) ?? "unknown")")
        config.connectionTimeouts = ConnectionTimeouts(
            idle: .seconds(idleTimeout), requestHead: .seconds(requestHeadTimeout),
            bodyStall: .seconds(bodyStallTimeout), send: .seconds(sendTimeout))
        config.maxConnections = maxConnections
        config.database = try databaseURL()
        config.imageStore = store
        config.nodeAddress = nodeAddress
        config.gcGrace = .seconds(gcGrace)
        config.gcInterval = .seconds(gcInterval)
        if let ports = importAllowedPorts {
            config.imports.allowedPorts = Set(ports.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) })
        }
        if let hosts = importAllowedHosts {
            config.imports.allowedHosts = Set(hosts.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        if !noMetrics {
            // One registry per process: swift-metrics can be bootstrapped once.
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            config.metricsRegistry = registry
        }
        let lock = try DataDirectoryLock(directory: config.dataDirectory)
        let app = try await GlimpseApplication.build(config, logger: logger)
        try await app.runService()
        withExtendedLifetime(lock) {}
    }
}
