// The `glimpse` executable: argument parsing and subcommands; everything else lives in the modules.

import ArgumentParser
import GlimpseImageAPI
import GlimpseServer
import Hummingbird
import Logging

@main
struct Glimpse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An OpenStack-compatible image and snapshot service.",
        subcommands: [Serve.self],
        defaultSubcommand: nil)
}

extension GlimpseConfiguration.AuthMode: ExpressibleByArgument {}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the OpenStack APIs on one listener.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 9292
    @Option(help: "Where metadata and image data live (default: $XDG_DATA_HOME/glimpse or ~/.local/share/glimpse).")
    var dataDir: String?
    @Option(help: "The URL clients use to reach this listener (default: http://HOST:PORT).") var publicURL: String?
    @Option(help: "How requests are authenticated: none (development only: trusted X-User-Id/X-Project-Id/X-Roles headers).")
    var auth: GlimpseConfiguration.AuthMode = .none
    @Option(help: "Largest image accepted, in bytes (Glance's image_size_cap).") var imageSizeCap: Int64 = 1 << 40
    @Option(help: "Bytes of image data each project may store (default: unlimited).") var projectQuota: Int64?
    @Option(help: "Disk format of server snapshots: qcow2 or raw.") var snapshotFormat = "qcow2"
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "glimpse")
        let config = GlimpseConfiguration(
            host: host, port: port, dataDirectory: dataDir, publicURL: publicURL, auth: auth,
            limits: ImageLimits(imageSizeCap: imageSizeCap, projectQuota: projectQuota),
            snapshotFormat: snapshotFormat)
        let app = try await GlimpseApplication.build(config, logger: logger)
        try await app.runService()
    }
}
