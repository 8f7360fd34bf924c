// One write into an S3 bucket: a multipart upload whose parts are sent while the next one fills.
import Crypto
import Foundation
import NIOCore

/// Fills a part buffer and sends each full part while the next one fills. Up to the store's `partsInFlight` parts
/// are signed and sent at once (signing hashes the whole part, so one part's SHA-256 overlaps another's transfer),
/// so at most `partsInFlight + 1` parts are in memory. `commit` completes the upload (the object appears only then);
/// `cancel` aborts it.
actor S3BlobWriter: BlobWriter {
    private let store: S3BlobStore
    private let key: String
    private let uploadID: String
    private let marker: String
    private var filling = ByteBuffer()
    /// Parts being sent, oldest first.
    private var inFlight: [Task<S3UploadedPart, any Error>] = []
    private var parts: [S3UploadedPart] = []
    private var finished = false

    init(store: S3BlobStore, key: String, uploadID: String, marker: String) {
        self.store = store
        self.key = key
        self.uploadID = uploadID
        self.marker = marker
    }

    func write(_ buffer: ByteBuffer) async throws {
        guard !finished else { throw S3Error.malformedResponse("write after commit or cancel") }
        var buffer = buffer
        filling.writeBuffer(&buffer)
        while filling.readableBytes >= store.partSize {
            // Wait for the oldest part in flight when all slots are taken: that bounds memory.
            if inFlight.count >= store.partsInFlight { try await settleOldest() }
            guard let part = filling.readSlice(length: store.partSize) else { break }
            try send(part)
            filling.discardReadBytes()
        }
    }

    /// Starts sending the next part. S3 takes at most 10,000 parts per upload: past that the write fails with a
    /// clear error rather than an opaque one from the service. Growing the parts instead would keep large writes
    /// going, but a part is held in memory twice over, so part sizes stay what the operator set (`part-size=`).
    private func send(_ part: ByteBuffer) throws {
        let number = parts.count + inFlight.count + 1
        guard number <= store.maxParts else { throw S3Error.tooManyParts(key: key, largestObject: store.largestObject) }
        let (client, key, uploadID) = (store.client, key, uploadID)
        // Detached: signing a part (its SHA-256) must not hold the actor, or the next part could not fill meanwhile.
        inFlight.append(Task.detached {
            let response = try await client.send(S3Request(
                operation: "UploadPart", method: .PUT, key: key,
                query: [("partNumber", String(number)), ("uploadId", uploadID)], body: part, idempotent: true))
            try response.check("UploadPart")
            guard let etag = response.etag else { throw S3Error.malformedResponse("UploadPart without an ETag") }
            return S3UploadedPart(number: number, etag: etag)
        })
    }

    private func settleOldest() async throws {
        guard !inFlight.isEmpty else { return }
        let task = inFlight.removeFirst()
        parts.append(try await task.value)
    }

    /// Waits for every part in flight, in order (parts must be listed in order at completion).
    private func settleInFlight() async throws {
        while !inFlight.isEmpty { try await settleOldest() }
    }

    func commit() async throws {
        guard !finished else { throw S3Error.malformedResponse("commit after commit or cancel") }
        finished = true
        do {
            try await settleInFlight()
            if parts.isEmpty {
                // Smaller than one part: a single PUT is one request instead of three. The upload is aborted
                // first: if it is gone, garbage collection removed it (its writer seemed dead), and the write
                // must fail as a larger one would.
                var abort = S3BlobStore.abort(key: key, uploadID: uploadID)
                // Not resent: a resend after a lost answer would see 404 and fail a write that was fine.
                abort.idempotent = false
                let aborted = try await store.client.send(abort)
                if aborted.status == 404 { throw S3Error.writeRemoved(key) }
                try aborted.check("AbortMultipartUpload")
                try await store.client.send(S3Request(
                    operation: "PutObject", method: .PUT, key: key, body: filling, idempotent: true)).check("PutObject")
            } else {
                if filling.readableBytes > 0 {
                    try send(filling)
                    filling = ByteBuffer()
                    try await settleInFlight()
                }
                try await complete()
            }
        } catch {
            await abandon()
            throw error
        }
        filling = ByteBuffer()
        try? await removeMarker()
    }

    /// CompleteMultipartUpload is not idempotent (a second one may fail although the first succeeded), so it is
    /// never resent blindly: after a lost answer the object is checked for the ETag this upload gives it.
    private func complete() async throws {
        let body = "<CompleteMultipartUpload>"
            + parts.map { "<Part><PartNumber>\($0.number)</PartNumber><ETag>\"\(S3XML.escape($0.etag))\"</ETag></Part>" }.joined()
            + "</CompleteMultipartUpload>"
        let request = S3Request(
            operation: "CompleteMultipartUpload", method: .POST, key: key, query: [("uploadId", uploadID)],
            body: ByteBuffer(string: body), idempotent: false)
        let response: S3Response
        do {
            response = try await store.client.send(request)
        } catch {
            if try await objectIsThisUpload() { return }
            throw error
        }
        // S3 may answer 200 and report a failure in the body.
        if response.isSuccess, !response.text.contains("<Error>") { return }
        if response.status >= 500, try await objectIsThisUpload() { return }
        throw response.error("CompleteMultipartUpload")
    }

    /// Whether the object now is what completing this upload makes: S3's multipart ETag is the MD5 of the parts'
    /// MD5s followed by "-" and the number of parts. A part's ETag is its MD5 (the store checked each part against
    /// its signed SHA-256), so no part is hashed here a second time; a store whose part ETags are not MD5s
    /// (encryption with KMS keys) cannot confirm the upload, and the failure stands.
    private func objectIsThisUpload() async throws -> Bool {
        var all: [UInt8] = []
        for part in parts {
            guard let md5 = Self.md5(fromETag: part.etag) else { return false }
            all += md5
        }
        let expected = all.withUnsafeBytes { S3SigV4Signer.hex(Insecure.MD5.hash(data: $0)) } + "-\(parts.count)"
        return try await store.head(key)?.etag == expected
    }

    /// The 16 bytes of a part ETag that is an MD5 in hex (quotes allowed), else nil.
    static func md5(fromETag etag: String) -> [UInt8]? {
        let hex = Array(etag.utf8.filter { $0 != UInt8(ascii: "\"") })
        guard hex.count == 32 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        var i = 0
        while i < 32 {
            guard let high = Self.nibble(hex[i]), let low = Self.nibble(hex[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
            i += 2
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    func cancel() async {
        guard !finished else { return }
        finished = true
        for task in inFlight { task.cancel() }
        for task in inFlight { _ = try? await task.value }
        inFlight = []
        await abandon()
        filling = ByteBuffer()
    }

    /// Aborts the upload and removes its marker; a failure here leaves both for `removeIncomplete()`.
    private func abandon() async {
        guard (try? await store.client.send(S3BlobStore.abort(key: key, uploadID: uploadID)).check(
            "AbortMultipartUpload", alsoAccepted: [404])) != nil
        else { return }
        try? await removeMarker()
    }

    private func removeMarker() async throws {
        try await store.client.send(S3Request(operation: "DeleteObject", method: .DELETE, key: marker, idempotent: true))
            .check("DeleteObject (upload marker)", alsoAccepted: [404])
    }
}

/// A part the service accepted: its number, the ETag to complete with, and its MD5 (to recognise the result).
struct S3UploadedPart: Sendable {
    var number: Int
    var etag: String
}
