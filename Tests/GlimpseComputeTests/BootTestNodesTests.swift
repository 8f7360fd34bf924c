import Foundation
import GlimpseCompute
import GlimpseCore
import GlimpsePostgres
import GlimpsePostgresTesting
import GlimpseServer
import HummingbirdTesting
import Logging
import Testing

// Boot tests behind a load balancer: a test runs on the node that started it, and a poll reaching another node
// (one on the same database) is answered by asking the other nodes; another project still learns nothing.

private let qemuInstalled = FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64")
    || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/qemu-system-x86_64")

@Suite struct BootTestNodesTests {
    func withNode(
        _ database: PostgresTestDatabase, store: String, hypervisor: HypervisorKind, _ body: @Sendable (API) async throws -> Void
    ) async throws {
        let dir = testDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var logger = Logger(label: "glimpse-boot-test-nodes-test")
        logger.logLevel = .error
        var config = GlimpseConfiguration(host: "127.0.0.1", port: 0, dataDirectory: dir, auth: .none)
        config.database = try PostgresDatabaseURL(parsing: database.url)
        config.imageStore = store
        config.hypervisor = hypervisor
        let app = try await GlimpseApplication.build(config, logger: logger)
        try await app.test(.live) { client in try await body(API(client: client, dataDirectory: dir)) }
    }

    @Test(.enabled(if: qemuInstalled, "qemu-system-x86_64 is not installed"), .timeLimit(.minutes(5)))
    func aBootTestIsShownThroughAnyNode() async throws {
        let database = try await PostgresTestCluster.shared.makeDatabase()
        let store = testDirectory()
        defer { try? FileManager.default.removeItem(atPath: store) }
        try await withNode(database, store: store, hypervisor: .qemu) { a in
            // A blank disk: it fails after its 10 s timeout, which is enough to poll it through the other node.
            let blank = try await a.image(size: 1 << 20, fill: 0, properties: ["hw_qemu_guest_agent": "yes"])
            let started = try await a.post("/compute/v2.1/os-glimpse-boot-tests", json: #"{"boot_test":{"image_ref":"\#(blank)","timeout":10}}"#)
            #expect(started.status == .accepted, "\(started)")
            let id = try #require(started["boot_test"]?["id"]?.string)

            try await withNode(database, store: store, hypervisor: .overlay) { b in
                var last: JSONValue = .null
                let deadline = ContinuousClock.now + .seconds(120)
                while ContinuousClock.now < deadline {
                    let r = try await b.get("/compute/v2.1/os-glimpse-boot-tests/\(id)")
                    #expect(r.status == .ok, "\(r)")
                    last = r["boot_test"] ?? .null
                    if last["status"]?.string != "running" { break }
                    try await Task.sleep(for: .milliseconds(500))
                }
                #expect(last["status"]?.string == "failed", "\(last)")
                #expect(last["id"]?.string == id)
                let stranger = try await b.get("/compute/v2.1/os-glimpse-boot-tests/\(id)", as: .bob)
                #expect(stranger.status == .notFound, "\(stranger)")
                let unknown = try await b.get("/compute/v2.1/os-glimpse-boot-tests/\(UUID().uuidString.lowercased())")
                #expect(unknown.status == .notFound, "\(unknown)")
            }
        }
    }
}
