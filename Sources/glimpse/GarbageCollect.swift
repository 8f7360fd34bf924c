// `glimpse admin gc`: one garbage-collection sweep of image data, printed object by object with a summary.
import ArgumentParser
import Foundation
import GlimpseServer
import Logging

/// One garbage-collection sweep of image data, on the stores `glimpse serve` would use with the same options.
struct GarbageCollect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove image data no image owns and unfinished uploads no live node is making.",
        discussion: """
            Objects that belong to no image with data (a crash between the object store and the database), and \
            unfinished uploads (S3 multipart uploads, incoming files) whose node is not alive or that no node \
            announced, are removed once older than --grace. Uploads of live nodes (by their leases) are never \
            touched. Prints each object and upload, then a summary.
            """)

    @Option(help: "The data directory of serve (SQLite metadata and, without --store, image data).") var dataDir: String?
    @Option(help: "The PostgreSQL database of serve, if any (or env GLIMPSE_DATABASE_URL).") var database: String?
    @Option(help: "--database: file whose first line is the database password (else env PGPASSWORD).")
    var databasePasswordFile: String?
    @Option(help: "The image store of serve: a directory or s3://BUCKET?... (default: DATA_DIR/blobs).") var store: String?
    @Option(help: "Seconds unowned data must be old before it is removed.") var grace = 3600
    @Flag(help: "Report what would be removed; remove nothing.") var dryRun = false
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "warning"

    func validate() throws {
        try Self.validateGrace(grace, option: "--grace")
    }

    /// A grace period is a non-negative number of seconds, below a century (beyond that nothing would ever go).
    static func validateGrace(_ seconds: Int, option: String) throws {
        guard (0...3_153_600_000).contains(seconds) else {
            throw ValidationError("\(option) must be between 0 and 3153600000 seconds")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var config = GlimpseConfiguration(dataDirectory: dataDir)
        config.database = try Serve.databaseURL(database, passwordFile: databasePasswordFile)
        config.imageStore = store
        let report = try await OrphanDataCollection.run(
            config, grace: .seconds(grace), dryRun: dryRun, logger: Logger(label: "glimpse.gc"))
        for line in report.lines { print(line) }
        print("gc: " + report.summary)
        // What could not be removed is retried by the next sweep; the operator still learns from the status.
        if !report.failures.isEmpty { throw ExitCode(1) }
    }
}
