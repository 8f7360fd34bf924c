import Foundation
import GlimpseStorage
import NIOCore
import Testing

/// The contract every `BlobStore` backend must meet.
@Suite("BlobStore contract")
struct BlobStoreContractTests {
    /// Deterministic bytes, different at every offset.
    static func pattern(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 11) &+ Int(seed)) }
    }

    static func write(_ bytes: [UInt8], to store: any BlobStore, key: String, pieces: Int = 7) async throws {
        let writer = try await store.makeWriter(key: key)
        let step = max(1, bytes.count / pieces)
        var at = 0
        while at < bytes.count {
            let end = min(bytes.count, at + step)
            try await writer.write(ByteBuffer(bytes: bytes[at..<end]))
            at = end
        }
        try await writer.commit()
    }

    static func readAll(_ store: any BlobStore, _ key: String, _ range: Range<Int64>? = nil) async throws -> [UInt8]? {
        guard let chunks = try await store.read(key: key, range: range) else { return nil }
        var out: [UInt8] = []
        for try await c in chunks { out += Array(c.readableBytesView) }
        return out
    }

    @Test(arguments: BlobBackend.allCases)
    func committedDataReadsBackWholeAndInRanges(_ backend: BlobBackend) async throws {
        let store = try await backend.make().store
        let data = Self.pattern(3 << 20 + 12345)
        try await Self.write(data, to: store, key: "a")
        #expect(try await Self.readAll(store, "a") == data)
        #expect(try await store.size(key: "a") == Int64(data.count))
        let ranges: [Range<Int64>] = [0..<10, 1_048_570..<1_048_590, Int64(data.count - 5)..<Int64(data.count), 5..<5]
        for r in ranges {
            #expect(try await Self.readAll(store, "a", r) == Array(data[Int(r.lowerBound)..<Int(r.upperBound)]))
        }
        #expect(try await store.keys() == ["a"])
    }

    @Test(arguments: BlobBackend.allCases)
    func nothingIsVisibleBeforeCommitAndCancelLeavesNothing(_ backend: BlobBackend) async throws {
        let store = try await backend.make().store
        let writer = try await store.makeWriter(key: "b")
        try await writer.write(ByteBuffer(bytes: Self.pattern(1000)))
        #expect(try await store.read(key: "b", range: nil) == nil)
        #expect(try await store.keys().isEmpty)
        await writer.cancel()
        #expect(try await store.read(key: "b", range: nil) == nil)
        #expect(try await store.removeIncomplete() == 0, "a cancelled write leaves no temporary behind")
    }

    @Test(arguments: BlobBackend.allCases)
    func aNodeCleaningUpAfterItsCrashLeavesAnotherNodesWriteAlone(_ backend: BlobBackend) async throws {
        let (first, second, reopenFirst) = try await backend.makeShared()
        let crashed = try await first.makeWriter(key: "left")
        try await crashed.write(ByteBuffer(bytes: Self.pattern(4096)))
        let live = try await second.makeWriter(key: "live")
        try await live.write(ByteBuffer(bytes: Self.pattern(8192)))
        // The first node restarts while the second one is still writing.
        let restarted = try reopenFirst()
        #expect(try await restarted.removeIncomplete() == 1, "only the first node's own half-written object goes")
        try await live.write(ByteBuffer(bytes: Self.pattern(100)))
        try await live.commit()
        #expect(try await restarted.size(key: "live") == 8292, "the other node's write completes, visible to both")
        // Once the second node is known dead, its leftovers may be removed by the first.
        let abandoned = try await second.makeWriter(key: "abandoned")
        try await abandoned.write(ByteBuffer(bytes: Self.pattern(4096)))
        #expect(try await restarted.removeIncomplete(ofWriter: "node-b") == 1)
        #expect(try await restarted.removeIncomplete(ofWriter: "node-a") == 0, "a store never treats itself as dead")
        #expect(try await restarted.keys() == ["live"])
        withExtendedLifetime((crashed, abandoned)) {}
    }

    @Test(arguments: BlobBackend.allCases)
    func aCrashedWriteIsCleanedUpAtStartup(_ backend: BlobBackend) async throws {
        let (store, reopen) = try await backend.make()
        let writer = try await store.makeWriter(key: "c")
        try await writer.write(ByteBuffer(bytes: Self.pattern(4096)))
        // A new process starting over the same storage while the old write never finished.
        let restarted = try reopen()
        #expect(try await restarted.removeIncomplete() == 1)
        #expect(try await restarted.keys().isEmpty)
        withExtendedLifetime(writer) {}
    }

    @Test(arguments: BlobBackend.allCases)
    func deleteRemovesAndIsIdempotent(_ backend: BlobBackend) async throws {
        let store = try await backend.make().store
        try await Self.write(Self.pattern(10), to: store, key: "d")
        try await store.delete(key: "d")
        #expect(try await store.read(key: "d", range: nil) == nil)
        try await store.delete(key: "d")
        #expect(try await store.size(key: "d") == nil)
    }

    @Test(arguments: BlobBackend.allCases)
    func aSecondCommitReplacesTheObjectWhole(_ backend: BlobBackend) async throws {
        let store = try await backend.make().store
        try await Self.write(Self.pattern(5000, seed: 1), to: store, key: "e")
        try await Self.write(Self.pattern(100, seed: 2), to: store, key: "e")
        #expect(try await Self.readAll(store, "e") == Self.pattern(100, seed: 2))
    }

    @Test(arguments: BlobBackend.allCases)
    func emptyObjectsExist(_ backend: BlobBackend) async throws {
        let store = try await backend.make().store
        try await Self.write([], to: store, key: "z")
        #expect(try await Self.readAll(store, "z") == [])
        #expect(try await store.size(key: "z") == 0)
    }
}

@Suite("FileBlobStore")
struct FileBlobStoreTests {
    @Test func runsOfZerosAreStoredAsHoles() async throws {
        let store = try FileBlobStore(root: try TemporaryDirectory.make())
        var data = [UInt8](repeating: 0, count: 8 << 20)
        data[3 << 20] = 1
        try await BlobStoreContractTests.write(data, to: store, key: "sparse", pieces: 16)
        #expect(try await BlobStoreContractTests.readAll(store, "sparse") == data)
        let allocated = try #require(try await store.allocatedBytes(key: "sparse"))
        #expect(allocated < 1 << 20, "8 MiB of mostly zeros took \(allocated) bytes")
    }

    @Test func deletedDataLeavesTheDiskOnceReclaimed() async throws {
        let root = try TemporaryDirectory.make()
        let store = try FileBlobStore(root: root)
        try await BlobStoreContractTests.write(BlobStoreContractTests.pattern(3 << 20), to: store, key: "gone")
        try await store.delete(key: "gone")
        #expect(try await store.read(key: "gone", range: nil) == nil, "unreadable as soon as delete returns")
        await store.reclaimed()
        let directories: Set<String> = ["objects", "incoming", "incoming/local", "trash"]
        let left = try FileManager.default.subpathsOfDirectory(atPath: root).filter { !directories.contains($0) }
        #expect(left.isEmpty, "no file of a deleted object is left: \(left)")
    }

    @Test func aDeleteInterruptedByACrashIsFinishedAtStartup() async throws {
        let root = try TemporaryDirectory.make()
        _ = try FileBlobStore(root: root)
        // What a crash between the rename into trash/ and the unlink leaves behind.
        try Data("half-deleted".utf8).write(to: URL(fileURLWithPath: root + "/trash/x.1"))
        let store = try FileBlobStore(root: root)
        #expect(try await store.removeIncomplete() == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/trash").isEmpty)
    }

    @Test(arguments: [1, 4095, 4097, (4 << 20) - 1, (4 << 20) + 1, (9 << 20) + 123])
    func sizesThatAreNotBlockMultiplesReadBackExactly(_ size: Int) async throws {
        // The writer stages bytes in aligned blocks for direct I/O and pads the tail; the padding must never show.
        let store = try FileBlobStore(root: try TemporaryDirectory.make())
        let data = BlobStoreContractTests.pattern(size, seed: UInt8(size % 251))
        try await BlobStoreContractTests.write(data, to: store, key: "odd", pieces: 7)
        #expect(try await store.size(key: "odd") == Int64(size))
        #expect(try await BlobStoreContractTests.readAll(store, "odd") == data)
    }

    @Test func keysCannotEscapeTheStore() async throws {
        let store = try FileBlobStore(root: try TemporaryDirectory.make())
        await #expect(throws: FileError.self) { _ = try await store.makeWriter(key: "../x") }
        await #expect(throws: FileError.self) { _ = try await store.read(key: ".hidden", range: nil) }
    }
}
