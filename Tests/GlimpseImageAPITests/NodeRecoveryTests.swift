import Foundation
import GlimpseCore
import GlimpseImageAPI
import GlimpsePostgres
import GlimpsePostgresTesting
import GlimpseStorage
import Logging
import NIOCore
import Testing

/// Several nodes on one PostgreSQL database and one shared image directory: a node restarting, or sweeping for dead
/// nodes, undoes only work that no live node claims.
@Suite("Recovery among nodes")
struct NodeRecoveryTests {
    static let owner = Caller(userID: "u1", projectID: "p1", roles: ["reader", "member"])

    struct Cluster {
        let database: PostgresTestDatabase
        let imageDirectory: String

        static func make() async throws -> Cluster {
            let database = try await PostgresTestCluster.shared.makeDatabase()
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-nodes-\(UUID().uuidString)").path
            return Cluster(database: database, imageDirectory: dir)
        }

        /// A node's image service (a start of `glimpse serve` with this id), without its start-up recovery.
        func node(
            _ id: String, lease: Duration = .seconds(30), limits: ImageLimits = .init(), cacheDirectory: String? = nil
        ) async throws -> ImageService {
            var logger = Logger(label: "glimpse.test.node.\(id)")
            logger.logLevel = .error
            let metadata = try await PostgresMetadataStore.open(database.configuration, logger: logger)
            let blobs = try FileBlobStore(root: imageDirectory, writer: id)
            var cache: ImageCache?
            if let cacheDirectory {
                cache = try await ImageCache.open(directory: cacheDirectory, source: blobs, metadata: metadata, logger: logger)
            }
            return ImageService(
                metadata: metadata, blobs: blobs, limits: limits, cache: cache,
                node: NodeMembership(nodeID: id, address: "http://\(id):9292", lease: lease), logger: logger)
        }
    }

    /// An upload body the test feeds by hand, so an upload can be held in the middle.
    struct HeldBody {
        let stream: AsyncStream<ByteBuffer>
        let feed: AsyncStream<ByteBuffer>.Continuation

        init() { (stream, feed) = AsyncStream.makeStream(of: ByteBuffer.self) }
    }

    func newImage(_ service: ImageService) async throws -> String {
        try await service.create(
            ["name": .string("held"), "disk_format": .string("raw"), "container_format": .string("bare")],
            caller: Self.owner
        ).id
    }

    /// Waits until the image reaches `status` (the upload task runs beside the test).
    func wait(_ service: ImageService, _ id: String, for status: ImageStatus) async throws {
        for _ in 0..<3000 {
            if try await service.metadata.image(id: id)?.status == status { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("image \(id) never reached \(status)")
    }

    @Test func aRestartingNodeLeavesAnotherLiveNodesUploadAlone() async throws {
        let cluster = try await Cluster.make()
        let a = try await cluster.node("node-a")
        let b = try await cluster.node("node-b")
        try await a.recover()
        try await b.recover()
        let id = try await newImage(a)
        let body = HeldBody()
        let upload = Task { try await b.upload(id, body: body.stream, declaredSize: nil, caller: Self.owner) }
        body.feed.yield(ByteBuffer(bytes: [UInt8](repeating: 7, count: 3 << 20)))
        try await wait(b, id, for: .saving)

        // Node A restarts in the middle of node B's upload.
        let restartedA = try await cluster.node("node-a")
        try await restartedA.recover()
        #expect(try await restartedA.metadata.image(id: id)?.status == .saving, "B's upload is still in flight")

        body.feed.yield(ByteBuffer(bytes: [UInt8](repeating: 9, count: 1 << 20)))
        body.feed.finish()
        let active = try await upload.value
        #expect(active.status == .active && active.size == 4 << 20)
        #expect(try await restartedA.blobs.size(key: id) == 4 << 20, "the data is there for every node")
        #expect(try await a.metadata.workClaims().isEmpty, "a finished upload leaves no claim")
    }

    @Test func aRestartingNodeUndoesItsOwnUnfinishedUpload() async throws {
        let cluster = try await Cluster.make()
        let b = try await cluster.node("node-b")
        try await b.recover()
        let id = try await newImage(b)
        let body = HeldBody()
        let upload = Task { try await b.upload(id, body: body.stream, declaredSize: nil, caller: Self.owner) }
        body.feed.yield(ByteBuffer(bytes: [UInt8](repeating: 7, count: 3 << 20)))
        try await wait(b, id, for: .saving)

        // Node B's process dies (its upload never finishes) and node B starts again.
        let restartedB = try await cluster.node("node-b")
        try await restartedB.recover()
        let image = try await restartedB.metadata.image(id: id)
        #expect(image?.status == .queued && image?.size == nil)
        #expect(try await restartedB.metadata.workClaims().isEmpty)
        let incoming = (try? FileManager.default.contentsOfDirectory(atPath: cluster.imageDirectory + "/incoming/node-b")) ?? ["?"]
        #expect(incoming.isEmpty, "the half-written data is gone: \(incoming)")
        upload.cancel()
        body.feed.finish()
        _ = await upload.result
    }

    @Test func aLiveNodeRecoversWhatADeadNodeLeftAndOnlyThat() async throws {
        let cluster = try await Cluster.make()
        let a = try await cluster.node("node-a")
        let b = try await cluster.node("node-b")
        try await b.recover()
        let abandoned = try await newImage(b)
        let body = HeldBody()
        let upload = Task { try await b.upload(abandoned, body: body.stream, declaredSize: nil, caller: Self.owner) }
        body.feed.yield(ByteBuffer(bytes: [UInt8](repeating: 7, count: 3 << 20)))
        try await wait(b, abandoned, for: .saving)

        // Node A uploads too, heartbeating; node B stops heartbeating (it hangs, or its host is gone).
        try await a.recover()
        let ownID = try await newImage(a)
        let ownBody = HeldBody()
        let ownUpload = Task { try await a.upload(ownID, body: ownBody.stream, declaredSize: nil, caller: Self.owner) }
        ownBody.feed.yield(ByteBuffer(bytes: [UInt8](repeating: 1, count: 1 << 20)))
        try await wait(a, ownID, for: .saving)
        #expect(try await a.recoverDeadNodes() == 0, "B's lease has not run out yet")
        // B's last heartbeat is now older than a lease (30 s): as if it had stopped beating 31 s ago.
        let longAgo = Timestamp(microseconds: Int64(Date().timeIntervalSince1970 * 1_000_000) - 31_000_000)
        try await a.metadata.heartbeat(NodeLease(node: "node-b", address: "http://node-b:9292", heartbeatAt: longAgo))
        #expect(try await a.recoverDeadNodes() == 1)
        #expect(try await a.metadata.image(id: abandoned)?.status == .queued, "the dead node's upload is undone")
        #expect(try await a.metadata.image(id: ownID)?.status == .saving, "the sweeping node's own upload goes on")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: cluster.imageDirectory + "/incoming/node-b")) ?? []
        #expect(left.isEmpty, "the dead node's half-written data is removed")

        // If the dead node was only stalled, its upload cannot complete over the recovery.
        body.feed.yield(ByteBuffer(bytes: [UInt8](repeating: 7, count: 1 << 20)))
        body.feed.finish()
        let late = await upload.result
        let lateFailed = (try? late.get()) == nil
        #expect(lateFailed)
        #expect(try await a.metadata.image(id: abandoned)?.status == .queued)

        ownBody.feed.finish()
        #expect(try await ownUpload.value.status == .active)
    }

    @Test func aCopyInAnotherNodesCacheGoesWhenTheImageIsDeleted() async throws {
        let cluster = try await Cluster.make()
        let cacheDirectory = cluster.imageDirectory + "-cache-b"
        let a = try await cluster.node("node-a")
        let b = try await cluster.node("node-b", cacheDirectory: cacheDirectory)
        try await a.recover()
        try await b.recover()
        let id = try await newImage(a)
        let data = AsyncStream<ByteBuffer> { $0.yield(ByteBuffer(bytes: [UInt8](repeating: 5, count: 1 << 20))); $0.finish() }
        _ = try await a.upload(id, body: data, declaredSize: nil, caller: Self.owner)
        let cache = try #require(b.cache)
        cache.enqueue(id)
        await cache.waitUntilIdle()
        #expect(cache.contents().cached.map(\.imageID) == [id], "node B holds a copy")

        try await a.delete(id, caller: Self.owner)
        #expect(try await b.pruneCachedCopiesOfDeletedImages() == 1)
        #expect(cache.contents().cached.isEmpty)
        let files = (try? FileManager.default.subpathsOfDirectory(atPath: cacheDirectory + "/objects")) ?? ["?"]
        #expect(files.isEmpty, "no byte of the deleted image is left in node B's cache: \(files)")
    }
}
