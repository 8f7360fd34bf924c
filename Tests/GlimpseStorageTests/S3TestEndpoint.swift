// The test process's private S3 endpoint: tests/objectstore/swift-s3 started on first use in a temporary directory,
// stopped when the process exits. Each caller gets its own fresh bucket.
import Foundation
import GlimpseStorage
import Synchronization

actor S3TestEndpoint {
    static let shared = S3TestEndpoint()

    struct Running {
        var location: S3Location
        var credentials: S3Credentials
    }

    private var running: Running?
    /// The endpoint's directory, for the exit handler (which cannot reach the actor).
    private static let toStop = Mutex<String?>(nil)

    /// A new, empty bucket on the endpoint (started on first use), with writer `writer`.
    func makeStore(writer: String = "local", partSize: Int = 16 << 20, readChunkSize: Int = 4 << 20) async throws
        -> (store: S3BlobStore, location: S3Location, credentials: S3Credentials)
    {
        let endpoint = try running ?? start()
        var location = endpoint.location
        location.bucket = "glimpse-test-" + UUID().uuidString.lowercased().prefix(18)
        let store = try S3BlobStore(
            location: location, credentials: endpoint.credentials, writer: writer, partSize: partSize,
            readChunkSize: readChunkSize)
        try await store.createBucketIfMissing()
        return (store, location, endpoint.credentials)
    }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("tests/objectstore/swift-s3").path
    }

    private func start() throws -> Running {
        let directory = NSTemporaryDirectory() + "glimpse-s3-" + UUID().uuidString.prefix(8)
        let output = try Self.run([Self.script, "start", directory])
        Self.toStop.withLock { $0 = directory }
        atexit { S3TestEndpoint.stopAtExit() }
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let endpoint = values["S3_ENDPOINT"], let credentials = S3Credentials.fromEnvironment(values) else {
            throw S3TestEndpointError("swift-s3 printed no endpoint: \(output)")
        }
        let location = try S3Location(url: "s3://placeholder?endpoint=\(endpoint)&region=\(values["AWS_REGION"] ?? "us-east-1")")
        let started = Running(location: location, credentials: credentials)
        running = started
        return started
    }

    private static func stopAtExit() {
        guard let directory = toStop.withLock({ $0 }) else { return }
        _ = try? run([script, "stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs the script to completion and returns its standard output. posix_spawn and waitpid rather than
    /// Foundation's `Process`, whose `waitUntilExit` was seen to hang in the test process.
    private static func run(_ argv: [String]) throws -> String {
        let log = NSTemporaryDirectory() + "glimpse-s3-" + UUID().uuidString.prefix(8) + ".out"
        defer { unlink(log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw S3TestEndpointError("cannot start \(argv[0]): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        // WIFEXITED && WEXITSTATUS == 0, spelled out: the C macros are not imported.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw S3TestEndpointError("\(argv.joined(separator: " ")) failed (status \(status)): \(output.suffix(2000))")
        }
        return output
    }
}

struct S3TestEndpointError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
