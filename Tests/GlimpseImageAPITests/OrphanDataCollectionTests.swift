// Garbage collection of image data as a node runs it at start, and as `glimpse admin gc` runs it on serve's stores.
import Foundation
import GlimpseCore
import GlimpseImageAPI
import GlimpseServer
import GlimpseStorage
import Logging
import NIOCore
import Testing

@Suite("Orphan data collection")
struct OrphanDataCollectionTests {
    static let owner = Caller(userID: "u1", projectID: "p1", roles: ["reader", "member"])

    /// A data directory with an active image, an orphan object two hours old, a fresh orphan, and a two-hour-old
    /// incoming file of a node that is not alive. Returns the directory, the stores and the active image's id.
    static func scene() async throws -> (directory: String, service: ImageService, imageID: String) {
        let directory = NSTemporaryDirectory() + "glimpse-gc-" + UUID().uuidString
        let stores = try GlimpseApplication.openEmbeddedStores(at: directory)
        let blobs = try #require(stores.blobs as? FileBlobStore)
        var logger = Logger(label: "glimpse.test.gc")
        logger.logLevel = .error
        let service = ImageService(
            metadata: stores.metadata, blobs: blobs,
            node: NodeMembership(nodeID: blobs.writer, address: "", sharesStore: false), logger: logger)
        let id = try await service.create(
            ["name": .string("kept"), "disk_format": .string("raw"), "container_format": .string("bare")], caller: owner
        ).id
        let body = AsyncStream<ByteBuffer> { $0.yield(ByteBuffer(bytes: [UInt8](repeating: 4, count: 5000))); $0.finish() }
        _ = try await service.upload(id, body: body, declaredSize: nil, caller: owner)

        for key in ["old-orphan", "young-orphan"] {
            let writer = try await blobs.makeWriter(key: key)
            try await writer.write(ByteBuffer(bytes: [UInt8](repeating: 1, count: 1234)))
            try await writer.commit()
        }
        let twoHoursAgo = Date().addingTimeInterval(-7200)
        try FileManager.default.setAttributes([.modificationDate: twoHoursAgo], ofItemAtPath: blobs.root + "/objects/old-orphan")
        let dead = blobs.root + "/incoming/dead-node"
        try FileManager.default.createDirectory(atPath: dead, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dead + "/gone.0123abcd", contents: Data(repeating: 9, count: 77))
        try FileManager.default.setAttributes([.modificationDate: twoHoursAgo], ofItemAtPath: dead + "/gone.0123abcd")
        return (directory, service, id)
    }

    @Test func aStartingNodeCollectsOldUnownedDataAndKeepsTheRest() async throws {
        let (directory, service, id) = try await Self.scene()
        try await service.recover()
        #expect(try await service.blobs.keys().sorted() == [id, "young-orphan"].sorted())
        let incoming = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/blobs/incoming/dead-node")) ?? []
        #expect(incoming.isEmpty, "the dead node's old upload is gone: \(incoming)")
        #expect(try await service.blobs.size(key: id) == 5000, "the image's data stays")
    }

    @Test func anOperatorsRunReportsWhatGoesAndADryRunRemovesNothing() async throws {
        let (directory, service, id) = try await Self.scene()
        try await service.heartbeat()
        let config = GlimpseConfiguration(dataDirectory: directory)
        let logger = Logger(label: "glimpse.test.gc")

        let dry = try await OrphanDataCollection.run(config, grace: .seconds(3600), dryRun: true, logger: logger)
        let lines = dry.lines.sorted()
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("would remove object old-orphan (1234 bytes, last modified ") == true, "\(lines)")
        #expect(lines.last?.hasPrefix("would remove unfinished upload of gone (writer dead-node, started ") == true, "\(lines)")
        #expect(lines.last?.hasSuffix(", 77 bytes)") == true, "\(lines)")
        #expect(dry.summary.hasPrefix("would remove 1 object(s) (1234 bytes) and 1 unfinished upload(s); kept 1 younger"))
        #expect(try await service.blobs.keys().count == 3, "a dry run removes nothing")

        let run = try await OrphanDataCollection.run(config, grace: .seconds(0), dryRun: false, logger: logger)
        #expect(run.removedObjects.map(\.key).sorted() == ["old-orphan", "young-orphan"])
        #expect(run.removedWrites.map(\.writer) == ["dead-node"])
        #expect(try await service.blobs.keys() == [id], "only the image's data is left")
    }
}
