// Garbage collection of image data on both blob backends: only old data of no image and no live writer goes.
import Foundation
import GlimpseCore
import GlimpseStorage
import NIOCore
import Testing

@Suite("Orphan data sweep")
struct OrphanDataSweepTests {
    static let grace: Duration = .seconds(3600)

    static func image(_ n: Int, status: ImageStatus) -> Image {
        let t = Timestamp(microseconds: 1_700_000_000_000_000)
        return Image(
            id: String(format: "00000000-0000-4000-8000-%012d", n), name: "image-\(n)", status: status,
            visibility: .private, owner: "p1", size: nil, diskFormat: "raw", containerFormat: "bare",
            createdAt: t, updatedAt: t, tags: [], properties: [:])
    }

    static func later(_ now: Timestamp, hours: Int64) -> Timestamp {
        Timestamp(microseconds: now.microseconds + hours * 3_600_000_000)
    }

    @Test(arguments: BlobBackend.allCases)
    func onlyOldDataOfNoImageAndNoLiveWriterGoes(_ backend: BlobBackend) async throws {
        let (nodeA, nodeB, _) = try await backend.makeShared()
        let metadata = try SQLiteMetadataStore(path: try TemporaryDirectory.make() + "/meta.sqlite")
        let data = BlobStoreContractTests.pattern(70_000)

        let active = Self.image(1, status: .active)
        try await metadata.insertImage(active)
        try await BlobStoreContractTests.write(data, to: nodeA, key: active.id)
        // An image a live node works on (its record not updated yet): its data is that node's business.
        let claimed = Self.image(2, status: .queued)
        try await metadata.insertImage(claimed)
        try await metadata.claimWork(imageID: claimed.id, node: "node-b")
        try await BlobStoreContractTests.write(data, to: nodeB, key: claimed.id)
        // A crash between the object store and the database: data of no image.
        try await BlobStoreContractTests.write(data, to: nodeA, key: "orphan")
        // Node B is alive and writing; node A (no lease at all) left a write behind.
        let inFlight = try await nodeB.makeWriter(key: "in-flight")
        try await inFlight.write(ByteBuffer(bytes: data))
        let abandoned = try await nodeA.makeWriter(key: "abandoned")
        try await abandoned.write(ByteBuffer(bytes: data))

        let now = BlobStoreListingContractTests.now()
        let inTwoHours = Self.later(now, hours: 2)
        // Node B's lease is fresh at every moment this test sweeps at.
        try await metadata.heartbeat(NodeLease(node: "node-b", address: "", heartbeatAt: inTwoHours))
        let sweep = OrphanDataSweep(metadata: metadata, blobs: nodeA, lease: .seconds(30), grace: Self.grace)

        let young = try await sweep.run(node: nil, now: now)
        #expect(young.removedObjects.isEmpty && young.removedWrites.isEmpty, "nothing is older than the grace yet")
        #expect(young.keptYoung == 2 && young.keptLive == 2)

        let dry = try await sweep.run(node: nil, dryRun: true, now: inTwoHours)
        #expect(dry.removedObjects.map(\.key) == ["orphan"])
        #expect(dry.removedWrites.map(\.key) == ["abandoned"])
        #expect(dry.removedBytes == 70_000)
        #expect(try await nodeA.keys().contains("orphan"), "a dry run removes nothing")
        let asNodeA = try await sweep.run(node: "node-a", dryRun: true, now: inTwoHours)
        #expect(asNodeA.removedWrites.isEmpty, "a node sweeping leaves its own writes alone")

        let swept = try await sweep.run(node: nil, now: inTwoHours)
        #expect(swept.removedObjects.map(\.key) == ["orphan"])
        #expect(swept.removedWrites.map(\.key) == ["abandoned"] && swept.failures.isEmpty)
        #expect(try await nodeB.keys().sorted() == [active.id, claimed.id].sorted())
        #expect(try await nodeB.incompleteWrites().map(\.key) == ["in-flight"])
        let summary = swept.summary
        #expect(summary.contains("removed 1 object(s) (70000 bytes) and 1 unfinished upload(s)"), "\(summary)")

        // The live node's write was left whole: it completes.
        try await inFlight.write(ByteBuffer(bytes: [1, 2, 3]))
        try await inFlight.commit()
        #expect(try await nodeA.size(key: "in-flight") == 70_003)
        withExtendedLifetime(abandoned) {}
    }
}
