import Foundation
import GlimpseCore
import GlimpseImageAPI
import GlimpseServer
import GlimpseStorage
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// `--project-quota` on every write path: concurrent writers cannot overshoot, staged data counts, and the 413
/// carries Glance's message.
@Suite struct QuotaTests {
    /// The project's stored bytes as the image list shows them (active images and staged data).
    static func usedBytes(_ api: API, as who: Who = .owner) async throws -> Int64 {
        let r = try await api.get("/v2/images?limit=1000", as: who)
        var total: Int64 = 0
        for image in r["images"]?.array ?? [] where image["owner"]?.string == who.project {
            total += image["size"]?.int ?? 0
        }
        return total
    }

    @Test func eightConcurrentWritersNeverOvershoot() async throws {
        try await withGlimpse(limits: ImageLimits(projectQuota: 1000)) { api in
            var ids: [String] = []
            for _ in 0..<8 { ids.append(try await api.createImage()) }
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for (n, id) in ids.enumerated() {
                    group.addTask {
                        try await api.put("/v2/images/\(id)/file", data: Array(repeating: UInt8(n), count: 300)).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let codes = statuses.map(\.code)
            let won = codes.filter { $0 == 204 }.count
            let onlyWonOrRefused = codes.allSatisfy { code in code == 204 || code == 413 }
            #expect(onlyWonOrRefused, "\(codes)")
            #expect(won >= 1 && won <= 3, "300-byte writes under a 1000-byte quota: \(statuses)")
            #expect(try await Self.usedBytes(api) == Int64(won) * 300)
            #expect(api.blobFiles().count == won, "refused writes keep nothing: \(api.blobFiles())")
        }
    }

    @Test func overQuotaPutNamesTheRemainingBytes() async throws {
        try await withGlimpse(limits: ImageLimits(projectQuota: 150)) { api in
            let a = try await api.createImage()
            try await api.upload(a, Array(repeating: 1, count: 100))
            let b = try await api.createImage()
            let r = try await api.put("/v2/images/\(b)/file", data: Array(repeating: 2, count: 60))
            expectError(r, .contentTooLarge, containing: "The size of the data 60 will exceed the limit. 50 bytes remaining.")
        }
    }

    @Test func stagedDataCountsAgainstTheQuota() async throws {
        try await withGlimpse(limits: ImageLimits(projectQuota: 150)) { api in
            let staged = try await api.createImage()
            let s = try await api.put("/v2/images/\(staged)/stage", data: Array(repeating: 1, count: 100))
            #expect(s.status == .noContent, "\(s)")
            #expect(try await api.image(staged)["size"]?.int == 100, "the staged size is recorded, as Glance does")

            // 100 staged + 100 more would exceed 150, by PUT and by a second stage.
            let b = try await api.createImage()
            expectError(try await api.put("/v2/images/\(b)/file", data: Array(repeating: 2, count: 100)), .contentTooLarge)
            expectError(try await api.put("/v2/images/\(b)/stage", data: Array(repeating: 2, count: 100)), .contentTooLarge)
            #expect(try await api.image(b)["status"]?.string == "queued")

            // Importing the staged data does not charge it twice.
            let r = try await api.post("/v2/images/\(staged)/import", json: #"{"method":{"name":"glance-direct"}}"#)
            #expect(r.status == .accepted, "\(r)")
            #expect(try await ImportTests.settled(api, staged)["status"]?.string == "active")
            #expect(try await Self.usedBytes(api) == 100)
            try await api.upload(b, Array(repeating: 2, count: 50))
            #expect(try await Self.usedBytes(api) == 150)
        }
    }

    @Test func aStageCutShortByACrashIsQueuedAgainAtRestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-quota-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var logger = Logger(label: "glimpse-quota-test")
        logger.logLevel = .error
        // What `kill -9` during PUT /stage leaves: the image `uploading`, only a partial (uncommitted) write.
        let id = UUID().uuidString.lowercased()
        do {
            let stores = try GlimpseApplication.openEmbeddedStores(at: dir)
            let now = Timestamp(microseconds: 1_700_000_000_000_000)
            var image = try ImageRules.newImage(
                from: ["disk_format": .string("raw"), "container_format": .string("bare")],
                caller: Caller(userID: "user-owner", projectID: "p-owner", roles: ["member", "reader"]), id: id, now: now)
            image.status = .uploading
            try await stores.metadata.insertImage(image)
            let writer = try await stores.blobs.makeWriter(key: id + ".staging")
            try await writer.write(ByteBuffer(bytes: Array(repeating: 9, count: 4096)))
        }
        let config = GlimpseConfiguration(host: "127.0.0.1", port: 0, dataDirectory: dir, auth: .none)
        let app = try await GlimpseApplication.build(config, logger: logger)
        try await app.test(.live) { client in
            let api = API(client: client, dataDirectory: dir)
            let image = try await api.image(id)
            #expect(image["status"]?.string == "queued")
            #expect(image["size"]?.isNull == true)
            #expect(api.blobFiles().isEmpty, "the partial staged data is gone: \(api.blobFiles())")
            // And it can be staged again.
            let s = try await api.put("/v2/images/\(id)/stage", data: Payload.hello)
            #expect(s.status == .noContent, "\(s)")
        }
    }
}
