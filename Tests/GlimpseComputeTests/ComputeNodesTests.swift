import Foundation
import GlimpseCompute
import GlimpsePostgres
import GlimpsePostgresTesting
import GlimpseServer
import HummingbirdTesting
import Logging
import Testing

/// Two Glimpse nodes on one PostgreSQL database and one shared image directory: a server runs on the node that
/// built it, and an action reaching the other node (as behind a load balancer) is passed on to it.
@Suite("Compute across nodes")
struct ComputeNodesTests {
    func withNode(
        _ database: PostgresTestDatabase, store: String, _ body: @Sendable (API) async throws -> Void
    ) async throws {
        let dir = testDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var logger = Logger(label: "glimpse-compute-nodes-test")
        logger.logLevel = .error
        // Port 0: each node announces the port its listener got, which the other node passes actions on to.
        var config = GlimpseConfiguration(host: "127.0.0.1", port: 0, dataDirectory: dir, auth: .none)
        config.database = try PostgresDatabaseURL(parsing: database.url)
        config.imageStore = store
        config.hypervisor = .overlay  // API semantics on non-bootable images: no QEMU
        let app = try await GlimpseApplication.build(config, logger: logger)
        try await app.test(.live) { client in try await body(API(client: client, dataDirectory: dir)) }
    }

    @Test func actionsOnAServerReachItsNodeFromAnyNode() async throws {
        let database = try await PostgresTestCluster.shared.makeDatabase()
        let store = testDirectory()
        defer { try? FileManager.default.removeItem(atPath: store) }
        try await withNode(database, store: store) { a in
            let image = try await a.image(size: 1 << 20, fill: 0x42)
            let id = try await a.server(image: image)
            try await a.waitStatus(id, "ACTIVE")
            let hostOnA = try await a.show(id, as: .admin)["server"]?["OS-EXT-SRV-ATTR:host"]?.string

            try await withNode(database, store: store) { b in
                let seen = try await b.show(id, as: .admin)["server"]
                #expect(seen?["OS-EXT-SRV-ATTR:host"]?.string == hostOnA, "both nodes name the same host")
                #expect(seen?["status"]?.string == "ACTIVE")

                let stranger = try await b.action(id, #"{"os-stop":null}"#, as: .bob)
                #expect(stranger.status == .notFound, "another project's caller learns nothing: \(stranger)")

                let stop = try await b.action(id, #"{"os-stop":null}"#)
                #expect(stop.status == .accepted, "stop through the other node: \(stop)")
                try await b.waitStatus(id, "SHUTOFF")

                let snap = try await b.action(id, #"{"createImage":{"name":"snap-via-b"}}"#)
                #expect(snap.status == .accepted, "snapshot through the other node: \(snap)")
                let snapID = try #require(snap["image_id"]?.string)
                let done = try await b.waitImage(snapID, "active")
                #expect(done?["image_type"]?.string == "snapshot")
                let data = try await b.get("/v2/images/\(snapID)/file")
                #expect(data.status == .ok && data.body.readableBytes > 0, "the snapshot's data reaches every node")

                let start = try await b.action(id, #"{"os-start":null}"#)
                #expect(start.status == .accepted, "start: \(start)")
                try await a.waitStatus(id, "ACTIVE")

                let deleted = try await b.delete("/compute/v2.1/servers/\(id)")
                #expect(deleted.status == .noContent, "delete through the other node: \(deleted)")
                try await a.wait(id) { _ in true }
                var gone = false
                for _ in 0..<200 where !gone {
                    gone = try await a.show(id).status == .notFound
                    if !gone { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(gone, "the server's own node deleted it")
            }
        }
    }
}
