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

/// The interoperable import API: `/stage`, `/import` (glance-direct, web-download), image tasks, `/v2/tasks`
/// (wire facts A.2 `--import`, C.9, C.10).
@Suite struct ImportTests {
    /// Polls until the image leaves `importing` (imports run in the background), then returns it.
    static func settled(_ api: API, _ id: String) async throws -> JSONValue {
        for _ in 0..<200 {
            let i = try await api.image(id)
            if i["status"]?.string != "importing" { return i }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await api.image(id)
    }

    @Test func createAdvertisesTheImportMethods() async throws {
        try await withGlimpse { api in
            let r = try await api.post("/v2/images", json: #"{"name":"x"}"#)
            #expect(r.header("OpenStack-image-import-methods") == "glance-direct,web-download")
            let info = try await api.get("/v2/info/import")
            #expect(info["import-methods"]?["value"]?.strings == ["glance-direct", "web-download"])
        }
    }

    @Test func glanceDirectStagesThenImportsWithDigestsAndATask() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let staged = try await api.put("/v2/images/\(id)/stage", data: Payload.big)
            #expect(staged.status == .noContent, "\(staged)")
            #expect(try await api.image(id)["status"]?.string == "uploading")
            #expect(try await api.get("/v2/images/\(id)/file").status == .noContent, "staged data is not image data")

            let r = try await api.post("/v2/images/\(id)/import", json: #"{"method":{"name":"glance-direct"}}"#)
            #expect(r.status == .accepted, "\(r)")
            let requestID = try #require(r.header("x-openstack-request-id"))
            let i = try await Self.settled(api, id)
            #expect(i["status"]?.string == "active")
            #expect(i["checksum"]?.string == Payload.bigMD5)
            #expect(i["os_hash_value"]?.string == Payload.bigSHA512)
            #expect(i["size"]?.int == Int64(Payload.big.count))
            #expect(i["stores"]?.string == "local")
            let download = try await api.get("/v2/images/\(id)/file")
            #expect(Array(download.body.readableBytesView) == Payload.big)

            let tasks = try await api.get("/v2/images/\(id)/tasks")
            let task = try #require(tasks["tasks"]?.array?.first)
            #expect(tasks["tasks"]?.array?.count == 1)
            #expect(task["status"]?.string == "success")
            #expect(task["type"]?.string == "api_image_import")
            #expect(task["request_id"]?.string == requestID)
            #expect(task["input"]?["import_req"]?["method"]?["name"]?.string == "glance-direct")
            #expect(task["result"]?["image_id"]?.string == id)
            #expect(api.blobFiles() == ["objects/\(id)"], "the staged copy is gone once imported")
        }
    }

    @Test func importPreconditionsAndBadRequests() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            expectError(
                try await api.post("/v2/images/\(id)/import", json: #"{"method":{"name":"glance-direct"}}"#),
                .conflict, containing: "staged")
            expectError(try await api.post("/v2/images/\(id)/import", json: #"{}"#), .badRequest, containing: "method")
            expectError(
                try await api.post("/v2/images/\(id)/import", json: #"{"method":{"name":"copy-image"}}"#), .badRequest)
            expectError(
                try await api.post("/v2/images/\(id)/import", json: #"{"method":{"name":"web-download"}}"#),
                .badRequest, containing: "uri")
            // Only 80 and 443 are allowed by default: no reaching into the server's own loopback services.
            expectError(
                try await api.post(
                    "/v2/images/\(id)/import",
                    json: #"{"method":{"name":"web-download","uri":"http://127.0.0.1:22/x"}}"#),
                .badRequest, containing: "filtering")
            expectError(
                try await api.post(
                    "/v2/images/\(id)/import", json: #"{"method":{"name":"web-download","uri":"file:///etc/passwd"}}"#),
                .badRequest, containing: "filtering")
            #expect(try await api.image(id)["status"]?.string == "queued", "refused imports change nothing")
            // Another project cannot stage into the image.
            let other = try await api.put("/v2/images/\(id)/stage", data: Payload.hello, as: .other)
            #expect(other.status == .notFound || other.status == .forbidden, "\(other)")
            // Staging twice is a conflict.
            #expect(try await api.put("/v2/images/\(id)/stage", data: Payload.hello).status == .noContent)
            expectError(try await api.put("/v2/images/\(id)/stage", data: Payload.hello), .conflict)
        }
    }

    @Test func tasksAPIIsAdminOnly() async throws {
        try await withGlimpse { api in
            expectError(try await api.get("/v2/tasks", as: .owner), .forbidden)
            #expect(try await api.get("/v2/tasks", as: .admin).status == .ok)
            expectError(try await api.get("/v2/tasks/\(UUID().uuidString.lowercased())", as: .admin), .notFound)
            expectError(
                try await api.post("/v2/tasks", json: #"{"type":"import","input":{}}"#, as: .admin), .badRequest)
        }
    }

    @Test func webDownloadFetchesFromAnAllowedServer() async throws {
        // A small web server holding the image.
        let router = Router()
        router.get("/disk.img") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: Payload.big))) }
        let web = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await web.test(.live) { webClient in
            let port = try #require(webClient.port)
            let dir = NSTemporaryDirectory() + "glimpse-import-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var config = GlimpseConfiguration(host: "127.0.0.1", port: 0, dataDirectory: dir, auth: .none)
            config.imports = ImportOptions(allowedPorts: [port], allowedHosts: ["127.0.0.1"])
            var logger = Logger(label: "import-test")
            logger.logLevel = .error
            let app = try await GlimpseApplication.build(config, logger: logger)
            try await app.test(.live) { client in
                let api = API(client: client, dataDirectory: dir)
                let id = try await api.createImage()
                let r = try await api.post(
                    "/v2/images/\(id)/import",
                    json: #"{"method":{"name":"web-download","uri":"http://127.0.0.1:\#(port)/disk.img"}}"#)
                #expect(r.status == .accepted, "\(r)")
                let i = try await Self.settled(api, id)
                #expect(i["status"]?.string == "active")
                #expect(i["checksum"]?.string == Payload.bigMD5)

                // A missing file fails the task and returns the image to queued with nothing kept.
                let id2 = try await api.createImage()
                _ = try await api.post(
                    "/v2/images/\(id2)/import",
                    json: #"{"method":{"name":"web-download","uri":"http://127.0.0.1:\#(port)/missing"}}"#)
                let failed = try await Self.settled(api, id2)
                #expect(failed["status"]?.string == "queued")
                #expect(failed["os_glance_failed_import"]?.string == "local")
                let task = try await api.get("/v2/images/\(id2)/tasks")["tasks"]?.array?.first
                #expect(task?["status"]?.string == "failure")
                #expect(!api.blobFiles().contains("objects/\(id2)"))
            }
        }
    }
}
