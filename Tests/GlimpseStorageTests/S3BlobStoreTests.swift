// S3-specific behaviour of `S3BlobStore` against the real local endpoint: multipart uploads, aborts, crashed writers.
import Crypto
import Foundation
@testable import GlimpseStorage
import NIOCore
import Testing

@Suite("S3BlobStore")
struct S3BlobStoreTests {
    static let partSize = 256 << 10

    @Test func partETagsParseOnlyAsMD5Hex() {
        #expect(S3BlobWriter.md5(fromETag: "\"0123456789abcdefABCDEF0123456789\"")?.count == 16)
        #expect(S3BlobWriter.md5(fromETag: "0123456789abcdef0123456789abcdef")?.first == 0x01)
        for bad in ["", "\"\"", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdeg", "abc-2"] {
            #expect(S3BlobWriter.md5(fromETag: bad) == nil, "\(bad)")
        }
    }

    @Test func anUploadOfSeveralPartsReadsBackWholeAndInRanges() async throws {
        let store = try await S3TestEndpoint.shared.makeStore(partSize: Self.partSize, readChunkSize: 100_000).store
        let data = BlobStoreContractTests.pattern(5 * Self.partSize + 1000, seed: 3)
        try await BlobStoreContractTests.write(data, to: store, key: "multi", pieces: 13)
        let etag = try await store.head("multi")?.etag
        #expect(etag?.hasSuffix("-6") == true, "sent as 6 parts, ETag \(etag ?? "none")")
        // The writer confirms a completion whose answer was lost from the parts' ETags alone: that holds only if
        // the store's multipart ETag is the MD5 of the parts' MD5s, checked here from the bytes.
        var partDigests: [UInt8] = []
        for start in stride(from: 0, to: data.count, by: Self.partSize) {
            let part = data[start..<min(start + Self.partSize, data.count)]
            let hex = part.withUnsafeBytes { S3SigV4Signer.hex(Insecure.MD5.hash(data: $0)) }
            partDigests += try #require(S3BlobWriter.md5(fromETag: "\"\(hex)\""))
        }
        let expected = partDigests.withUnsafeBytes { S3SigV4Signer.hex(Insecure.MD5.hash(data: $0)) } + "-6"
        #expect(etag == expected)
        #expect(try await BlobStoreContractTests.readAll(store, "multi") == data)
        let partBoundary = Int64(Self.partSize)
        let ranges: [Range<Int64>] = [
            0..<1, partBoundary - 10..<partBoundary + 10, 99_990..<300_010, Int64(data.count - 1000)..<Int64(data.count),
        ]
        for r in ranges {
            let read = try await BlobStoreContractTests.readAll(store, "multi", r)
            #expect(read == Array(data[Int(r.lowerBound)..<Int(r.upperBound)]), "range \(r)")
        }
        #expect(try await store.size(key: "multi") == Int64(data.count))
        #expect(try await store.uploadsInProgress().isEmpty, "the completed upload is no longer in progress")
        #expect(try await store.list(prefix: S3BlobStore.incomingPrefix).isEmpty, "its marker is gone")
    }

    @Test func anAbortedUploadLeavesNoObjectAndNoUpload() async throws {
        let store = try await S3TestEndpoint.shared.makeStore(partSize: Self.partSize).store
        let writer = try await store.makeWriter(key: "aborted")
        try await writer.write(ByteBuffer(bytes: BlobStoreContractTests.pattern(3 * Self.partSize)))
        let inProgress = try await store.uploadsInProgress().map { $0.key }
        #expect(inProgress == ["aborted"])
        await writer.cancel()
        #expect(try await store.read(key: "aborted", range: nil) == nil)
        #expect(try await store.uploadsInProgress().isEmpty)
        #expect(try await store.list(prefix: nil).isEmpty, "neither the object nor a marker is left")
    }

    @Test func aCrashedWriterIsRemovedByItsOwnCleanupAndNotByAnothers() async throws {
        let (crashedStore, location, credentials) = try await S3TestEndpoint.shared.makeStore(
            writer: "node-a", partSize: Self.partSize)
        let crashed = try await crashedStore.makeWriter(key: "half")
        try await crashed.write(ByteBuffer(bytes: BlobStoreContractTests.pattern(2 * Self.partSize + 5)))
        let other = try S3BlobStore(location: location, credentials: credentials, writer: "node-b", partSize: Self.partSize)
        #expect(try await other.removeIncomplete() == 0, "node-b has nothing of its own to clean")
        #expect(try await store(other, hasUploadsFor: ["half"]))
        // node-a restarts and cleans up after itself.
        let restarted = try S3BlobStore(location: location, credentials: credentials, writer: "node-a", partSize: Self.partSize)
        #expect(try await restarted.removeIncomplete() == 1)
        #expect(try await store(restarted, hasUploadsFor: []))
        #expect(try await restarted.keys().isEmpty)
        withExtendedLifetime(crashed) {}
    }

    @Test func aCommitAfterTheUploadWasAbortedElsewhereFails() async throws {
        let (store, location, credentials) = try await S3TestEndpoint.shared.makeStore(writer: "node-a", partSize: Self.partSize)
        let writer = try await store.makeWriter(key: "taken")
        try await writer.write(ByteBuffer(bytes: BlobStoreContractTests.pattern(Self.partSize + 7)))
        // Another node declares node-a dead and removes its upload.
        let survivor = try S3BlobStore(location: location, credentials: credentials, writer: "node-b")
        #expect(try await survivor.removeIncomplete(ofWriter: "node-a") == 1)
        await #expect(throws: S3Error.self) { try await writer.commit() }
        #expect(try await store.read(key: "taken", range: nil) == nil)
    }

    @Test func readsOfAMissingObjectAreNilAndKeysMustBePlainNames() async throws {
        let store = try await S3TestEndpoint.shared.makeStore().store
        #expect(try await store.read(key: "absent", range: nil) == nil)
        #expect(try await store.size(key: "absent") == nil)
        await #expect(throws: S3Error.self) { _ = try await store.makeWriter(key: ".incoming/x") }
        await #expect(throws: S3Error.self) { _ = try await store.read(key: "a/b", range: nil) }
    }

    @Test func wrongCredentialsAreRefused() async throws {
        let (_, location, _) = try await S3TestEndpoint.shared.makeStore()
        let intruder = try S3BlobStore(
            location: location, credentials: S3Credentials(accessKeyID: "glimpse:tester", secretAccessKey: "wrong"))
        await #expect(throws: S3Error.self) { _ = try await intruder.keys() }
    }

    @Test func unannouncedUploadsAreCollectedOnlyAfterTheGracePeriod() async throws {
        let store = try await S3TestEndpoint.shared.makeStore(partSize: Self.partSize).store
        // What a crash between CreateMultipartUpload and the marker leaves: an upload nobody announced.
        let orphan = try await store.client.send(S3Request(
            operation: "CreateMultipartUpload", method: .POST, key: "orphan", query: [("uploads", "")], idempotent: false))
        try orphan.check("CreateMultipartUpload")
        let announced = try await store.makeWriter(key: "live")
        try await announced.write(ByteBuffer(bytes: BlobStoreContractTests.pattern(Self.partSize + 1)))
        let unannounced = try await store.incompleteWrites().filter { $0.writer == nil }.map(\.key)
        #expect(unannounced == ["orphan"])

        let metadata = try SQLiteMetadataStore(path: try TemporaryDirectory.make() + "/meta.sqlite")
        let sweep = OrphanDataSweep(metadata: metadata, blobs: store, lease: .seconds(30), grace: .seconds(3600))
        let now = BlobStoreListingContractTests.now()
        let young = try await sweep.run(node: "local", now: now)
        #expect(young.removedWrites.isEmpty, "too young to be collected")
        let later = try await sweep.run(node: "local", now: OrphanDataSweepTests.later(now, hours: 2))
        #expect(later.removedWrites.map(\.key) == ["orphan"] && later.removedWrites.first?.writer == nil)
        #expect(try await self.store(store, hasUploadsFor: ["live"]), "the sweeping node's own upload is left alone")
        try await announced.commit()
        #expect(try await store.size(key: "live") == Int64(Self.partSize + 1))
    }

    @Test func anotherToolsObjectsAndUploadsInTheBucketAreNotCollected() async throws {
        let store = try await S3TestEndpoint.shared.makeStore(partSize: Self.partSize).store
        try await store.client.send(S3Request(
            operation: "PutObject", method: .PUT, key: "backups/db.dump", body: ByteBuffer(string: "x"), idempotent: true))
            .check("PutObject")
        try await store.client.send(S3Request(
            operation: "CreateMultipartUpload", method: .POST, key: "backups/next.dump", query: [("uploads", "")],
            idempotent: false)).check("CreateMultipartUpload")
        try await BlobStoreContractTests.write([1, 2, 3], to: store, key: "image")
        #expect(try await store.storedObjects().map(\.key) == ["image"])
        #expect(try await store.incompleteWrites().isEmpty)
        #expect(try await store.uploadsInProgress().map(\.key) == ["backups/next.dump"], "the other upload is still there")
    }

    func store(_ store: S3BlobStore, hasUploadsFor keys: [String]) async throws -> Bool {
        try await store.uploadsInProgress().map { $0.key }.sorted() == keys.sorted()
    }
}
