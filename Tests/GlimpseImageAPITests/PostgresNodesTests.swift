import Foundation
import GlimpsePostgres
import GlimpsePostgresTesting
import GlimpseServer
import HummingbirdTesting
import Logging
import Testing

/// Image metadata in PostgreSQL (`--database`), through HTTP: one node serves the whole image lifecycle, and a
/// second node on the same database sees what the first one wrote.
@Suite("PostgreSQL nodes")
struct PostgresNodesTests {
    /// Runs `body` against a Glimpse with its own data directory and image metadata in `database`.
    func withNode(
        _ database: PostgresTestDatabase, store: String? = nil, _ body: @Sendable (API) async throws -> Void
    ) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-pg-node-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var logger = Logger(label: "glimpse-pg-node-test")
        logger.logLevel = .error
        var config = GlimpseConfiguration(host: "127.0.0.1", port: 0, dataDirectory: dir, auth: .none)
        config.database = try PostgresDatabaseURL(parsing: database.url)
        config.imageStore = store
        let app = try await GlimpseApplication.build(config, logger: logger)
        try await app.test(.live) { client in try await body(API(client: client, dataDirectory: dir)) }
    }

    @Test func oneNodeServesTheImageLifecycleAndASecondNodeSeesIt() async throws {
        let database = try await PostgresTestCluster.shared.makeDatabase()
        try await withNode(database) { first in
            let id = try await first.createImage(#"{"name":"shared-db","disk_format":"raw","container_format":"bare"}"#)
            try await first.upload(id, Payload.hello)
            let shown = try await first.image(id)
            #expect(shown["status"]?.string == "active")
            #expect(shown["size"]?.int == Int64(Payload.hello.count))
            #expect(shown["checksum"]?.string == Payload.helloMD5)
            #expect(try await first.listIDs() == [id])
            let data = try await first.get("/v2/images/\(id)/file")
            #expect(data.bytes == Payload.hello)

            try await withNode(database) { second in
                #expect(try await second.listIDs() == [id], "the second node lists the first node's image")
                let seen = try await second.image(id)
                #expect(seen["name"]?.string == "shared-db" && seen["status"]?.string == "active")
                #expect(seen["os_hash_value"]?.string == Payload.helloSHA512)
                let renamed = try await second.patch(id, #"[{"op":"replace","path":"/name","value":"renamed"}]"#)
                #expect(renamed.status == .ok, "patch on the second node: \(renamed)")
            }
            #expect(try await first.image(id)["name"]?.string == "renamed", "the first node sees the second's change")

            let deleted = try await first.delete("/v2/images/\(id)")
            #expect(deleted.status == .noContent, "delete: \(deleted)")
            #expect(try await first.get("/v2/images/\(id)").status == .notFound)
            #expect(try await first.listIDs() == [])
        }
    }

    /// Each node keeps its own image cache: a cache change sent to one node holds on the other too, so a client
    /// behind a load balancer sees it whichever node answers next (Tempest's cache cycle test).
    @Test func aCacheChangeOnOneNodeHoldsOnTheOther() async throws {
        let database = try await PostgresTestCluster.shared.makeDatabase()
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-pg-store-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: store) }
        try await withNode(database, store: store) { first in
            try await withNode(database, store: store) { second in
                let id = try await first.createImage(#"{"name":"cached","disk_format":"raw","container_format":"bare"}"#)
                try await first.upload(id, Payload.hello)
                let queued = try await first.send(.put, "/v2/cache/\(id)", as: .admin)
                #expect(queued.status == .accepted, "queue: \(queued)")
                var cachedOnSecond = false
                for _ in 0..<400 where !cachedOnSecond {
                    let list = try await second.get("/v2/cache", as: .admin)
                    cachedOnSecond = list.text.contains(id) && list.text.contains("\"cached_images\":[{")
                    if !cachedOnSecond { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(cachedOnSecond, "the second node cached the image queued on the first")
                let cleared = try await second.delete("/v2/cache", as: .admin)
                #expect(cleared.status == .noContent, "clear: \(cleared)")
                let left = try await first.get("/v2/cache", as: .admin)
                #expect(!left.text.contains(id), "the clear sent to the second node emptied the first's cache: \(left)")
            }
        }
    }
}
