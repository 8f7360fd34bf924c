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

/// Image API 2.17 locations for http URLs: `POST/GET /v2/images/{id}/locations` (Tempest LocationImportTest,
/// HashCalculationRemoteDeletionTest).
@Suite struct LocationTests {
    static let bigSHA256 = "8c777ac1fb03e07e1bb1f050cbf6dc4d752063e272c95e76fca894c76a671b9a"
    static let service = Who(name: "svc", project: "p-owner", roles: "service,reader")  // a service token on behalf of the owner project

    /// Polls until every task of the image has left pending/processing, then returns the image (as admin).
    static func settled(_ api: API, _ id: String) async throws -> JSONValue {
        for _ in 0..<300 {
            let tasks = try await api.get("/v2/images/\(id)/tasks")["tasks"]?.array ?? []
            if tasks.allSatisfy({ $0["status"]?.string == "success" || $0["status"]?.string == "failure" }) {
                return try await api.image(id)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await api.image(id)
    }

    /// A Glimpse allowed to fetch from a local web server that serves `/disk.img` and a slow endless `/slow`.
    static func withServers(_ body: @Sendable (API, Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/disk.img") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: Payload.big))) }
        router.get("/slow") { _, _ in
            Response(status: .ok, body: .init { writer in
                for _ in 0..<600 {
                    try await writer.write(ByteBuffer(repeating: 7, count: 64 * 1024))
                    try await Task.sleep(for: .milliseconds(100))
                }
                try await writer.finish(nil)
            })
        }
        let web = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await web.test(.live) { webClient in
            let port = try #require(webClient.port)
            let dir = NSTemporaryDirectory() + "glimpse-location-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var config = GlimpseConfiguration(host: "127.0.0.1", port: 0, dataDirectory: dir, auth: .none)
            config.imports = ImportOptions(allowedPorts: [port], allowedHosts: ["127.0.0.1"])
            var logger = Logger(label: "location-test")
            logger.logLevel = .error
            let app = try await GlimpseApplication.build(config, logger: logger)
            try await app.test(.live) { client in
                try await body(API(client: client, dataDirectory: dir), port)
            }
        }
    }

    @Test func badRequestsAreRefusedBeforeAnyTask() async throws {
        try await Self.withServers { api, port in
            let id = try await api.createImage()
            let url = "http://127.0.0.1:\(port)/disk.img"
            let path = "/v2/images/\(id)/locations"
            for validation in [
                #"{"os_hash_algo":"sha512","os_hash_value":"dbc9e0f80d131e64b94913a7b40bb5"}"#,
                #"{"os_hash_value":"\#(Payload.bigSHA512)"}"#,
                #"{"os_hash_algo":"sha123","os_hash_value":"\#(Payload.bigSHA512)"}"#,
                #"{"os_hash_algo":"sha512","os_hash_value":"\#(Self.bigSHA256)"}"#,
                #"{"os_hash_algo":"sha256","os_hash_value":"zz\#(Self.bigSHA256.dropFirst(2))"}"#,
                #"{"os_hash_algo":"sha256","os_hash_value":"\#(Self.bigSHA256)","extra":1}"#,
            ] {
                expectError(try await api.post(path, json: #"{"url":"\#(url)","validation_data":\#(validation)}"#), .badRequest)
            }
            expectError(try await api.post(path, json: #"{"validation_data":{}}"#), .badRequest)
            // the web-download filter applies: a port that is not allowed, a scheme that is not http(s)
            expectError(try await api.post(path, json: #"{"url":"http://127.0.0.1:22/x"}"#), .badRequest)
            expectError(try await api.post(path, json: #"{"url":"file:///etc/passwd"}"#), .badRequest)
            // policy: a member of another project cannot see it, a reader of the owner project may not add
            expectError(try await api.post(path, json: #"{"url":"\#(url)"}"#, as: .other), .notFound)
            expectError(try await api.post(path, json: #"{"url":"\#(url)"}"#, as: .ownerReader), .forbidden)
            #expect(try await api.get("/v2/images/\(id)/tasks")["tasks"]?.array?.count == 0)
            #expect(try await api.image(id)["status"]?.string == "queued")
        }
    }

    @Test func validationDataThatMatchesMakesTheImageActiveWithThatAlgorithm() async throws {
        try await Self.withServers { api, port in
            let id = try await api.createImage()
            let url = "http://127.0.0.1:\(port)/disk.img"
            let r = try await api.post(
                "/v2/images/\(id)/locations",
                json: #"{"url":"\#(url)","validation_data":{"os_hash_algo":"sha256","os_hash_value":"\#(Self.bigSHA256)"}}"#)
            #expect(r.status == .accepted, "\(r)")
            let i = try await Self.settled(api, id)
            #expect(i["status"]?.string == "active")
            #expect(i["os_hash_algo"]?.string == "sha256")
            #expect(i["os_hash_value"]?.string == Self.bigSHA256)
            #expect(i["checksum"]?.string == Payload.bigMD5)
            #expect(i["size"]?.int == Int64(Payload.big.count))
            let tasks = try await api.get("/v2/images/\(id)/tasks")["tasks"]?.array ?? []
            #expect(tasks.count == 1)
            #expect(tasks.first?["type"]?.string == "location_import")
            #expect(Array(try await api.get("/v2/images/\(id)/file").body.readableBytesView) == Payload.big)

            // GET /locations: service or admin only
            expectError(try await api.get("/v2/images/\(id)/locations"), .forbidden)
            let locations = try await api.get("/v2/images/\(id)/locations", as: .admin)
            #expect(locations.status == .ok, "\(locations)")
            #expect(locations.json.array?.first?["url"]?.string == url)
            #expect(locations.json.array?.count == 1)

            // only a queued image takes a location
            expectError(try await api.post("/v2/images/\(id)/locations", json: #"{"url":"\#(url)"}"#), .conflict)
        }
    }

    @Test func aHashMismatchFailsTheTaskAndReturnsTheImageToQueued() async throws {
        try await Self.withServers { api, port in
            let id = try await api.createImage()
            let wrong = String(repeating: "beefdead", count: 16)
            let r = try await api.post(
                "/v2/images/\(id)/locations",
                json: #"{"url":"http://127.0.0.1:\#(port)/disk.img","validation_data":{"os_hash_algo":"sha512","os_hash_value":"\#(wrong)"}}"#)
            #expect(r.status == .accepted, "\(r)")
            let i = try await Self.settled(api, id)
            #expect(i["status"]?.string == "queued")
            #expect(i["os_hash_algo"] == .null)
            #expect(i["os_hash_value"] == .null)
            #expect(i["checksum"] == .null)
            #expect(try await api.get("/v2/images/\(id)/tasks")["tasks"]?.array?.first?["status"]?.string == "failure")
            #expect(!api.blobFiles().contains("objects/\(id)"))
        }
    }

    @Test func withoutValidationDataTheImageIsActiveAtOnceAndHashedWithSHA512() async throws {
        try await Self.withServers { api, port in
            let id = try await api.createImage()
            let r = try await api.post(
                "/v2/images/\(id)/locations", json: #"{"url":"http://127.0.0.1:\#(port)/disk.img"}"#, as: Self.service)
            #expect(r.status == .accepted, "\(r)")
            let i = try await Self.settled(api, id)
            #expect(i["status"]?.string == "active")
            #expect(i["os_hash_algo"]?.string == "sha512")
            #expect(i["os_hash_value"]?.string == Payload.bigSHA512)
            #expect(i["checksum"]?.string == Payload.bigMD5)
            #expect(try await api.get("/v2/images/\(id)/locations", as: Self.service).json.array?.count == 1)
        }
    }

    @Test func deletingDuringTheIngestLeavesNothingAndDoesNotResurrect() async throws {
        try await Self.withServers { api, port in
            let id = try await api.createImage()
            let r = try await api.post("/v2/images/\(id)/locations", json: #"{"url":"http://127.0.0.1:\#(port)/slow"}"#)
            #expect(r.status == .accepted, "\(r)")
            let i = try await api.image(id)
            #expect(i["status"]?.string == "active")
            #expect(i["os_hash_algo"]?.string == "sha512")
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await api.delete("/v2/images/\(id)").status == .noContent)
            // the ingest notices within about a second and stops
            let start = ContinuousClock.now
            var task: JSONValue?
            while ContinuousClock.now - start < .seconds(15) {
                task = try await api.get("/v2/tasks", as: .admin)["tasks"]?.array?.first { $0["image_id"]?.string == id }
                if task?["status"]?.string == "failure" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(task?["status"]?.string == "failure")
            expectError(try await api.get("/v2/images/\(id)"), .notFound)
            #expect(!api.blobFiles().contains { $0.contains(id) })
        }
    }
}
