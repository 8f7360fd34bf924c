import Foundation
import GlimpseCore
import GlimpseImageAPI
import GlimpseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// The image cache API (`/v2/cache`, Image API 2.14) and downloads served from the cache.
@Suite struct CacheTests {
    static let clearTarget = HTTPField.Name("x-image-cache-clear-target")!

    /// Polls `GET /v2/cache` until `id` is listed as cached (the cache fills in the background), then returns the list.
    static func cached(_ api: API, _ id: String) async throws -> JSONValue {
        for _ in 0..<200 {
            let r = try await api.get("/v2/cache", as: .admin)
            if r["cached_images"]?.array?.contains(where: { $0["image_id"]?.string == id }) == true { return r.json }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await api.get("/v2/cache", as: .admin).json
    }

    static func entry(_ list: JSONValue, _ id: String) -> JSONValue? {
        list["cached_images"]?.array?.first { $0["image_id"]?.string == id }
    }

    static func activeImage(_ api: API, _ data: [UInt8] = Payload.big) async throws -> String {
        let id = try await api.createImage()
        try await api.upload(id, data)
        return id
    }

    static func cacheFile(_ api: API, _ id: String) -> String { api.dataDirectory + "/cache/objects/" + id }

    @Test func everyCallIsAdminOnly() async throws {
        try await withGlimpse { api in
            let id = try await Self.activeImage(api, Payload.hello)
            expectError(try await api.get("/v2/cache"), .forbidden)
            expectError(try await api.send(.put, "/v2/cache/\(id)"), .forbidden)
            expectError(try await api.delete("/v2/cache/\(id)"), .forbidden)
            expectError(try await api.delete("/v2/cache"), .forbidden)
            let r = try await api.get("/v2/cache", as: .admin)
            #expect(r.status == .ok, "\(r)")
            #expect(r["cached_images"]?.array?.isEmpty == true)
            #expect(r["queued_images"]?.array?.isEmpty == true)
        }
    }

    @Test func queueingNeedsAnActiveImage() async throws {
        try await withGlimpse { api in
            expectError(try await api.send(.put, "/v2/cache/non-existing-image-id", as: .admin), .notFound)
            expectError(try await api.send(.put, "/v2/cache/\(UUID().uuidString)", as: .admin), .notFound)
            let queued = try await api.createImage()
            expectError(try await api.send(.put, "/v2/cache/\(queued)", as: .admin), .badRequest, containing: "active")
            let r = try await api.get("/v2/cache", as: .admin)
            #expect(r["queued_images"]?.array?.isEmpty == true)
        }
    }

    @Test func aQueuedImageIsCachedAndDownloadsCountHits() async throws {
        try await withGlimpse { api in
            let id = try await Self.activeImage(api)
            let q = try await api.send(.put, "/v2/cache/\(id)", as: .admin)
            #expect(q.status == .accepted, "\(q)")
            let list = try await Self.cached(api, id)
            let e = try #require(Self.entry(list, id), "\(list)")
            #expect(e["hits"]?.int == 0)
            #expect(e["size"]?.int == Int64(Payload.big.count))
            #expect(list["queued_images"]?.array?.isEmpty == true)
            let modified = try #require(e["last_modified"])
            #expect(modified != .null)
            #expect(FileManager.default.fileExists(atPath: Self.cacheFile(api, id)))

            // Queueing a cached image again changes nothing.
            #expect(try await api.send(.put, "/v2/cache/\(id)", as: .admin).status == .accepted)

            // Downloads are served from the cache, with the same headers, and counted.
            let d = try await api.get("/v2/images/\(id)/file")
            #expect(d.status == .ok)
            #expect(d.bytes == Payload.big)
            #expect(d.header("Content-MD5") == Payload.bigMD5)
            #expect(d.header("Content-Length") == String(Payload.big.count))
            let part = try await api.get("/v2/images/\(id)/file", headers: [.range: "bytes=5-9"])
            #expect(part.status == .partialContent)
            #expect(part.bytes == Array(Payload.big[5...9]))
            #expect(part.header("Content-Range") == "bytes 5-9/\(Payload.big.count)")
            #expect(part.header("Content-MD5") == Payload.bigMD5)
            let unsatisfiable = try await api.get("/v2/images/\(id)/file", headers: [.range: "bytes=\(Payload.big.count)-"])
            #expect(unsatisfiable.status == .rangeNotSatisfiable)
            let after = try await api.get("/v2/cache", as: .admin).json
            #expect(Self.entry(after, id)?["hits"]?.int == 2)
        }
    }

    @Test func downloadsReadTheCachedCopy() async throws {
        try await withGlimpse { api in
            let id = try await Self.activeImage(api, Payload.hello)
            #expect(try await api.send(.put, "/v2/cache/\(id)", as: .admin).status == .accepted)
            _ = try await Self.cached(api, id)
            // With the image store's copy gone, the cached one still serves the image.
            try FileManager.default.removeItem(atPath: api.dataDirectory + "/blobs/objects/" + id)
            let d = try await api.get("/v2/images/\(id)/file")
            #expect(d.status == .ok, "\(d)")
            #expect(d.bytes == Payload.hello)
            #expect(Self.entry(try await api.get("/v2/cache", as: .admin).json, id)?["hits"]?.int == 1)
        }
    }

    @Test func deletingFromTheCache() async throws {
        try await withGlimpse { api in
            let id = try await Self.activeImage(api, Payload.hello)
            #expect(try await api.send(.put, "/v2/cache/\(id)", as: .admin).status == .accepted)
            _ = try await Self.cached(api, id)
            let r = try await api.delete("/v2/cache/\(id)", as: .admin)
            #expect(r.status == .noContent, "\(r)")
            #expect(try await api.get("/v2/cache", as: .admin)["cached_images"]?.array?.isEmpty == true)
            #expect(!FileManager.default.fileExists(atPath: Self.cacheFile(api, id)))
            // Not cached any more: the download comes from the image store, and still works.
            #expect(try await api.get("/v2/images/\(id)/file").bytes == Payload.hello)
            expectError(try await api.delete("/v2/cache/\(UUID().uuidString)", as: .admin), .notFound)
        }
    }

    @Test func deletingTheImageRemovesItFromTheCache() async throws {
        try await withGlimpse { api in
            let id = try await Self.activeImage(api, Payload.hello)
            #expect(try await api.send(.put, "/v2/cache/\(id)", as: .admin).status == .accepted)
            _ = try await Self.cached(api, id)
            #expect(try await api.delete("/v2/images/\(id)").status == .noContent)
            #expect(try await api.get("/v2/cache", as: .admin)["cached_images"]?.array?.isEmpty == true)
            #expect(!FileManager.default.fileExists(atPath: Self.cacheFile(api, id)))
        }
    }

    @Test func clearingByTarget() async throws {
        try await withGlimpse { api in
            let id = try await Self.activeImage(api, Payload.hello)
            #expect(try await api.send(.put, "/v2/cache/\(id)", as: .admin).status == .accepted)
            _ = try await Self.cached(api, id)

            expectError(
                try await api.send(.delete, "/v2/cache", as: .admin, headers: [Self.clearTarget: "invalid"]), .badRequest)
            let queueOnly = try await api.send(.delete, "/v2/cache", as: .admin, headers: [Self.clearTarget: "queue"])
            #expect(queueOnly.status == .noContent, "\(queueOnly)")
            #expect(try await api.get("/v2/cache", as: .admin)["cached_images"]?.array?.count == 1)
            let cacheOnly = try await api.send(.delete, "/v2/cache", as: .admin, headers: [Self.clearTarget: "Cache"])
            #expect(cacheOnly.status == .noContent, "\(cacheOnly)")
            #expect(try await api.get("/v2/cache", as: .admin)["cached_images"]?.array?.isEmpty == true)
            #expect(!FileManager.default.fileExists(atPath: Self.cacheFile(api, id)))

            #expect(try await api.send(.put, "/v2/cache/\(id)", as: .admin).status == .accepted)
            _ = try await Self.cached(api, id)
            #expect(try await api.delete("/v2/cache", as: .admin).status == .noContent)
            let empty = try await api.get("/v2/cache", as: .admin)
            #expect(empty["cached_images"]?.array?.isEmpty == true)
            #expect(empty["queued_images"]?.array?.isEmpty == true)
        }
    }

    @Test func theCacheSurvivesARestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-cache-test-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var logger = Logger(label: "glimpse-cache-test")
        logger.logLevel = .error
        let config = GlimpseConfiguration(host: "127.0.0.1", port: 0, dataDirectory: dir, auth: .none)
        let box = IDBox()
        try await GlimpseApplication.build(config, logger: logger).test(.live) { client in
            let api = API(client: client, dataDirectory: dir)
            let id = try await Self.activeImage(api, Payload.hello)
            box.id = id
            #expect(try await api.send(.put, "/v2/cache/\(id)", as: .admin).status == .accepted)
            _ = try await Self.cached(api, id)
            #expect(try await api.get("/v2/images/\(id)/file").bytes == Payload.hello)
        }
        // Data that belongs to no entry is removed on start.
        try Data("stray".utf8).write(to: URL(fileURLWithPath: dir + "/cache/objects/" + UUID().uuidString.lowercased()))
        try await GlimpseApplication.build(config, logger: logger).test(.live) { client in
            let api = API(client: client, dataDirectory: dir)
            let id = try #require(box.id)
            let list = try await api.get("/v2/cache", as: .admin).json
            #expect(list["cached_images"]?.array?.count == 1, "\(list)")
            #expect(Self.entry(list, id)?["hits"]?.int == 1)
            let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/cache/objects")
            #expect(files == [id])
        }
    }
}

/// Carries a value out of one app's test closure into the next.
final class IDBox: @unchecked Sendable {
    var id: String?
}
