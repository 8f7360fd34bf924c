// S3's limits on multipart uploads: part sizes outside 5 MiB…5 GiB are refused when the store is configured, and
// a write that would need more parts than one upload may have fails with a clear error, leaving nothing behind.
import Foundation
@testable import GlimpseStorage
import NIOCore
import Testing

@Suite("S3 limits")
struct S3LimitsTests {
    static let base = "s3://images?endpoint=http://127.0.0.1:8080"

    static func refusal(_ url: String) -> String? {
        do {
            _ = try S3Location(url: url)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func partSizesWithinS3sBoundsAreTakenInBytesOrBinaryUnits() throws {
        #expect(try S3Location(url: Self.base).partSize == nil, "no part-size: the store's default")
        #expect(try S3Location(url: Self.base + "&part-size=16M").partSize == 16 << 20)
        #expect(try S3Location(url: Self.base + "&part-size=5MiB").partSize == 5 << 20)
        #expect(try S3Location(url: Self.base + "&part-size=5G").partSize == 5 << 30)
        #expect(try S3Location(url: Self.base + "&part-size=8388608").partSize == 8 << 20)
    }

    @Test(arguments: ["5242879", "4M", "5119K", "0", "6G", "5368709121", "-16M", "16X", "M", "99999999999999999999G"])
    func partSizesOutsideS3sBoundsAreRefusedWithTheReason(_ size: String) throws {
        let message = Self.refusal(Self.base + "&part-size=" + size)
        let explains = message?.contains("between 5 MiB (S3's minimum for every part but the last) and 5 GiB") == true
        #expect(explains, "part-size=\(size): \(message ?? "accepted")")
    }

    @Test func partsInFlightAreBounded() throws {
        #expect(try S3Location(url: Self.base).partsInFlight == nil, "no parts-in-flight: the store's default")
        #expect(try S3Location(url: Self.base + "&parts-in-flight=4").partsInFlight == 4)
        for bad in ["0", "17", "-1", "two", "", "99999999999999999999"] {
            let message = Self.refusal(Self.base + "&parts-in-flight=" + bad)
            #expect(message?.contains("between 1 and 16 parts") == true, "parts-in-flight=\(bad): \(message ?? "accepted")")
        }
    }

    @Test func severalPartsInFlightStillCompleteInOrder() async throws {
        let made = try await S3TestEndpoint.shared.makeStore(writer: "inflight", partSize: 64 << 10)
        let store = try S3BlobStore(
            location: made.location, credentials: made.credentials, writer: "inflight", partSize: 64 << 10, partsInFlight: 4)
        let data = BlobStoreContractTests.pattern(9 * (64 << 10) + 17, seed: 9)
        try await BlobStoreContractTests.write(data, to: store, key: "in-flight", pieces: 31)
        #expect(try await store.head("in-flight")?.etag?.hasSuffix("-10") == true)
        #expect(try await BlobStoreContractTests.readAll(store, "in-flight") == data)
        try await store.delete(key: "in-flight")
    }

    @Test func aWriteNeedingMorePartsThanAnUploadMayHaveFailsAndLeavesNothing() async throws {
        let endpoint = try await S3TestEndpoint.shared.makeStore(partSize: 64 << 10)
        let store = try S3BlobStore(
            location: endpoint.location, credentials: endpoint.credentials, partSize: 64 << 10, maxParts: 3)
        #expect(store.largestObject == 3 * (64 << 10))

        // Exactly the most parts: fine.
        let most = BlobStoreContractTests.pattern(3 * (64 << 10), seed: 5)
        try await BlobStoreContractTests.write(most, to: store, key: "fits")
        #expect(try await BlobStoreContractTests.readAll(store, "fits") == most)

        // One byte more needs a fourth part, sent at commit.
        let writer = try await store.makeWriter(key: "too-big")
        try await writer.write(ByteBuffer(bytes: BlobStoreContractTests.pattern(3 * (64 << 10) + 1)))
        let failure: S3Error?
        do {
            try await writer.commit()
            failure = nil
        } catch let error as S3Error {
            failure = error
        }
        #expect(failure == .tooManyParts(key: "too-big", largestObject: 3 * (64 << 10)))
        #expect(failure?.description.contains("raise part-size=") == true)
        #expect(try await store.read(key: "too-big", range: nil) == nil)
        #expect(try await store.incompleteWrites().isEmpty, "the failed write's upload is aborted")

        // A stream past the limit fails while it is written, before commit.
        let streaming = try await store.makeWriter(key: "stream")
        var failedAt: Int?
        for chunk in 0..<8 where failedAt == nil {
            do {
                try await streaming.write(ByteBuffer(bytes: BlobStoreContractTests.pattern(64 << 10)))
            } catch S3Error.tooManyParts {
                failedAt = chunk
            }
        }
        #expect(failedAt == 3, "the fourth full part is refused")
        await streaming.cancel()
        #expect(try await store.incompleteWrites().isEmpty)
    }
}
