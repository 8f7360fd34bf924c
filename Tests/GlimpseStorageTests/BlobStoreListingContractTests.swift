// The part of the BlobStore contract garbage collection relies on: listings with sizes and times, every
// writer's unfinished writes, and removing one of them.
import Foundation
import GlimpseCore
import GlimpseStorage
import NIOCore
import Testing

@Suite("BlobStore listing contract")
struct BlobStoreListingContractTests {
    static func now() -> Timestamp { Timestamp(microseconds: Int64(Date().timeIntervalSince1970 * 1_000_000)) }

    /// Whether `time` lies in [from, to], give or take a few seconds (S3 LastModified has whole seconds, and the
    /// endpoint's clock is read separately).
    static func isAround(_ time: Timestamp?, from: Timestamp, to: Timestamp) -> Bool {
        guard let time else { return false }
        return time.microseconds >= from.microseconds - 5_000_000 && time.microseconds <= to.microseconds + 5_000_000
    }

    @Test(arguments: BlobBackend.allCases)
    func storedObjectsHaveTheirSizeAndModificationTime(_ backend: BlobBackend) async throws {
        let (first, second, _) = try await backend.makeShared()
        let before = Self.now()
        try await BlobStoreContractTests.write(BlobStoreContractTests.pattern(1_500_000), to: first, key: "big")
        try await BlobStoreContractTests.write([], to: second, key: "empty")
        let unfinished = try await first.makeWriter(key: "unfinished")
        try await unfinished.write(ByteBuffer(bytes: BlobStoreContractTests.pattern(100)))
        let after = Self.now()

        let objects = try await first.storedObjects().sorted { $0.key < $1.key }
        #expect(objects.map(\.key) == ["big", "empty"], "writes in progress are not objects")
        #expect(objects.map(\.size) == [1_500_000, 0])
        let timesAreRight = objects.allSatisfy { Self.isAround($0.modified, from: before, to: after) }
        #expect(timesAreRight, "modification times: \(objects.map(\.modified.iso8601))")
        await unfinished.cancel()
    }

    @Test(arguments: BlobBackend.allCases)
    func everyWritersUnfinishedWritesAreListedAndOneCanBeRemoved(_ backend: BlobBackend) async throws {
        let (first, second, _) = try await backend.makeShared()
        let before = Self.now()
        let mine = try await first.makeWriter(key: "mine")
        try await mine.write(ByteBuffer(bytes: BlobStoreContractTests.pattern(3000)))
        let theirs = try await second.makeWriter(key: "theirs")
        try await theirs.write(ByteBuffer(bytes: BlobStoreContractTests.pattern(5000)))
        let after = Self.now()

        let writes = try await first.incompleteWrites().sorted { $0.key < $1.key }
        #expect(writes.map(\.key) == ["mine", "theirs"])
        #expect(writes.map(\.writer) == ["node-a", "node-b"])
        let startsAreRight = writes.allSatisfy { Self.isAround($0.started, from: before, to: after) }
        #expect(startsAreRight, "start times: \(writes.map { $0.started?.iso8601 ?? "none" })")

        // Any store may remove any writer's write (the caller knows it is abandoned): the write cannot commit then.
        let theirsListed = try #require(writes.last)
        try await first.removeIncompleteWrite(theirsListed)
        try await first.removeIncompleteWrite(theirsListed)
        #expect(try await second.incompleteWrites().map(\.key) == ["mine"])
        let commitFailed = await (try? theirs.commit()) == nil
        #expect(commitFailed, "a removed write cannot become an object")
        #expect(try await first.read(key: "theirs", range: nil) == nil)

        try await mine.commit()
        #expect(try await first.incompleteWrites().isEmpty, "a committed write is no longer unfinished")
        #expect(try await second.size(key: "mine") == 3000)
    }
}
