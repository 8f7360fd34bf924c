import Foundation
import GlimpseCore
import GlimpseImageAPI
import GlimpseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// web-download and http locations through HTTP: internal addresses in every spelling answer 400 before anything
/// connects, an operator-allowed loopback host works end to end, redirects are checked hop by hop, credentials in
/// URLs never reach an answer, a task or a log line. Every connection in these tests is to loopback; listeners
/// that record connections prove that refused targets were never connected to.
@Suite struct OutboundFetchTests {
    /// A TCP listener that counts the connections it accepts and closes each at once.
    struct ConnectionRecorder: Sendable {
        final class Counter: Sendable { let value = Mutex(0) }
        let channel: any Channel
        let counter: Counter
        var port: Int { channel.localAddress?.port ?? 0 }
        var connections: Int { counter.value.withLock { $0 } }

        static func start(host: String) async throws -> ConnectionRecorder {
            let counter = Counter()
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { child in
                    counter.value.withLock { $0 += 1 }
                    return child.close()
                }
                .bind(host: host, port: 0).get()
            return ConnectionRecorder(channel: channel, counter: counter)
        }

        func stop() async { try? await channel.close() }
    }

    /// Every log line, to check what never appears in one.
    final class LogLines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
    }

    struct RecordingLogHandler: LogHandler {
        let sink: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(
            level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
            function: String, line: UInt
        ) {
            sink.lines.withLock { $0.append("\(level) \(message) \(self.metadata.merging(metadata ?? [:]) { $1 })") }
        }
    }

    struct Servers {
        let api: API
        let webPort: Int
        /// On 127.0.0.1, a port Glimpse is not allowed to fetch from.
        let recorder: ConnectionRecorder
        /// On 127.0.0.2, a host that is not allowed, on a port that is.
        let otherHost: ConnectionRecorder
        let logs: LogLines
    }

    /// A web server on 127.0.0.1 with the image and redirects, two recorders, and a Glimpse whose import options
    /// `options(webPort, recorder port, other-host port)` returns.
    static func withServers(
        _ options: @Sendable (Int, Int, Int) -> ImportOptions, _ body: @Sendable (Servers) async throws -> Void
    ) async throws {
        let recorder = try await ConnectionRecorder.start(host: "127.0.0.1")
        let otherHost = try await ConnectionRecorder.start(host: "127.0.0.2")
        let (rp, op) = (recorder.port, otherHost.port)
        let router = Router()
        router.get("/disk.img") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: Payload.big))) }
        func redirect(_ path: RouterPath, to location: String) {
            router.get(path) { _, _ in Response(status: .found, headers: [.location: location]) }
        }
        redirect("/hop", to: "/disk.img")
        redirect("/to-refused-port", to: "http://127.0.0.1:\(rp)/x")
        redirect("/to-other-host", to: "http://127.0.0.2:\(op)/x")
        redirect("/to-credentials", to: "http://user:s3cret@127.0.0.1:\(rp)/x")
        redirect("/to-file", to: "file:///etc/passwd")
        redirect("/loop", to: "/loop")
        let web = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        do {
            try await web.test(.live) { webClient in
                let webPort = try #require(webClient.port)
                let dir = NSTemporaryDirectory() + "glimpse-outbound-\(UUID().uuidString)"
                defer { try? FileManager.default.removeItem(atPath: dir) }
                var config = GlimpseConfiguration(host: "127.0.0.1", port: 0, dataDirectory: dir, auth: .none)
                config.imports = options(webPort, rp, op)
                let logs = LogLines()
                var logger = Logger(label: "outbound-test") { _ in RecordingLogHandler(sink: logs) }
                logger.logLevel = .trace
                let app = try await GlimpseApplication.build(config, logger: logger)
                try await app.test(.live) { client in
                    try await body(
                        Servers(
                            api: API(client: client, dataDirectory: dir), webPort: webPort, recorder: recorder,
                            otherHost: otherHost, logs: logs))
                }
            }
        } catch {
            await recorder.stop()
            await otherHost.stop()
            throw error
        }
        await recorder.stop()
        await otherHost.stop()
    }

    static func webDownload(_ uri: String) -> String { #"{"method":{"name":"web-download","uri":"\#(uri)"}}"# }

    /// The default policy (no allowed hosts) with the recorder's port allowed: only the address check stands
    /// between these URLs and the recorder, and it refuses them all at the request.
    @Test func internalAddressesInEverySpellingAnswer400BeforeAnyConnection() async throws {
        try await Self.withServers({ _, rp, _ in ImportOptions(allowedPorts: [80, 443, rp]) }) { s in
            let p = s.recorder.port
            for host in [
                "127.0.0.1", "localhost", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "[::1]",
                "[::ffff:127.0.0.1]", "0.0.0.0", "169.254.169.254", "10.0.0.1", "[fd00::1]",
            ] {
                let url = "http://\(host):\(p)/image.raw"
                let id = try await s.api.createImage()
                let r = try await s.api.post("/v2/images/\(id)/import", json: Self.webDownload(url))
                expectError(r, .badRequest, containing: "URI for web-download does not pass filtering: \(url)")
                let l = try await s.api.post("/v2/images/\(id)/locations", json: #"{"url":"\#(url)"}"#)
                expectError(l, .badRequest, containing: "Location URL does not pass filtering: \(url)")
                #expect(try await s.api.get("/v2/images/\(id)/tasks")["tasks"]?.array?.count == 0, "\(host)")
                #expect(try await s.api.image(id)["status"]?.string == "queued", "\(host)")
            }
            #expect(s.recorder.connections == 0, "a refused URL was connected to")
        }
    }

    @Test func anOperatorAllowedLoopbackHostWorksEndToEndAndRedirectsWithinItAreFollowed() async throws {
        try await Self.withServers({ web, _, op in ImportOptions(allowedPorts: [web, op], allowedHosts: ["127.0.0.1"]) }) { s in
            let id = try await s.api.createImage()
            let r = try await s.api.post("/v2/images/\(id)/import", json: Self.webDownload("http://127.0.0.1:\(s.webPort)/hop"))
            #expect(r.status == .accepted, "\(r)")
            let image = try await LocationTests.settled(s.api, id)
            #expect(image["status"]?.string == "active")
            #expect(image["checksum"]?.string == Payload.bigMD5)

            let loc = try await s.api.createImage()
            let l = try await s.api.post("/v2/images/\(loc)/locations", json: #"{"url":"http://127.0.0.1:\#(s.webPort)/disk.img"}"#)
            #expect(l.status == .accepted, "\(l)")
            #expect(try await LocationTests.settled(s.api, loc)["os_hash_value"]?.string == Payload.bigSHA512)

            // The allow-list is exact: other spellings of the same address are other hosts.
            for host in ["localhost", "127.1", "2130706433"] {
                let other = try await s.api.createImage()
                expectError(
                    try await s.api.post("/v2/images/\(other)/import", json: Self.webDownload("http://\(host):\(s.webPort)/disk.img")),
                    .badRequest, containing: "does not pass filtering")
            }
        }
    }

    @Test func aRedirectToARefusedTargetFailsTheTaskWithoutConnecting() async throws {
        try await Self.withServers({ web, _, op in ImportOptions(allowedPorts: [web, op], allowedHosts: ["127.0.0.1"]) }) { s in
            for path in ["/to-refused-port", "/to-other-host", "/to-file", "/loop"] {
                let url = "http://127.0.0.1:\(s.webPort)\(path)"
                let id = try await s.api.createImage()
                #expect(try await s.api.post("/v2/images/\(id)/import", json: Self.webDownload(url)).status == .accepted)
                let image = try await LocationTests.settled(s.api, id)
                #expect(image["status"]?.string == "queued", "\(path)")
                #expect(image["os_glance_failed_import"]?.string == "local", "\(path)")
                let task = try await s.api.get("/v2/images/\(id)/tasks")["tasks"]?.array?.first
                #expect(task?["status"]?.string == "failure", "\(path)")
                let expected = path == "/loop" ? "redirected more than 10 times" : "Redirect to disallowed URL: "
                #expect(task?["message"]?.string?.contains(expected) == true, "\(path): \(String(describing: task))")
                #expect(!s.api.blobFiles().contains("objects/\(id)"), "\(path)")

                let loc = try await s.api.createImage()
                #expect(try await s.api.post("/v2/images/\(loc)/locations", json: #"{"url":"\#(url)"}"#).status == .accepted)
                let located = try await LocationTests.settled(s.api, loc)
                #expect(located["status"]?.string == "queued", "\(path)")
                #expect(try await s.api.get("/v2/images/\(loc)/tasks")["tasks"]?.array?.first?["status"]?.string == "failure")
            }
            #expect(s.recorder.connections == 0, "a redirect to a port that is not allowed was connected to")
            #expect(s.otherHost.connections == 0, "a redirect to a host that is not allowed was connected to")
        }
    }

    @Test func credentialsInURLsNeverAppearInAnswersTasksOrLogs() async throws {
        try await Self.withServers({ web, rp, _ in ImportOptions(allowedPorts: [web, rp], allowedHosts: ["127.0.0.1"]) }) { s in
            let secretURL = "http://user:s3cret@127.0.0.1:\(s.webPort)/disk.img"
            let id = try await s.api.createImage()
            let r = try await s.api.post("/v2/images/\(id)/import", json: Self.webDownload(secretURL))
            expectError(r, .badRequest, containing: "http://***@127.0.0.1")
            #expect(!r.text.contains("s3cret"))
            let l = try await s.api.post("/v2/images/\(id)/locations", json: #"{"url":"\#(secretURL)"}"#)
            expectError(l, .badRequest, containing: "Location URL does not pass filtering")
            #expect(!l.text.contains("s3cret"))

            // A redirect that carries credentials is refused, and its message is redacted too.
            let via = try await s.api.createImage()
            let accepted = try await s.api.post(
                "/v2/images/\(via)/import", json: Self.webDownload("http://127.0.0.1:\(s.webPort)/to-credentials"))
            #expect(accepted.status == .accepted, "\(accepted)")
            #expect(try await LocationTests.settled(s.api, via)["status"]?.string == "queued")
            let tasks = try await s.api.get("/v2/images/\(via)/tasks")
            #expect(tasks["tasks"]?.array?.first?["message"]?.string?.contains("http://***@127.0.0.1") == true, "\(tasks)")
            #expect(!tasks.text.contains("s3cret"))
            #expect(!(try await s.api.get("/v2/tasks", as: .admin)).text.contains("s3cret"))
            #expect(s.recorder.connections == 0)
            let lines = s.logs.all
            #expect(lines.contains { $0.contains("refused") }, "refusals are logged for the operator")
            #expect(!lines.contains { $0.contains("s3cret") }, "\(lines.filter { $0.contains("s3cret") })")
        }
    }
}
