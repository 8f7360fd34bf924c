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
    func withNode(_ database: PostgresTestDatabase, _ body: @Sendable (API) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-pg-node-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var logger = Logger(label: "glimpse-pg-node-test")
        logger.logLevel = .error
        var config = GlimpseConfiguration(host: "127.0.0.1", port: 0, dataDirectory: dir, auth: .none)
        config.database = try PostgresDatabaseURL(parsing: database.url)
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
}
