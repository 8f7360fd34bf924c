// `BlobStore` on an S3 bucket: objects are image keys, writes are multipart uploads completed on commit.
import AsyncHTTPClient
import Foundation
import GlimpseCore
import NIOCore
import NIOHTTP1

/// Image bytes in an S3 bucket (AWS, Ceph RGW, OpenStack Swift's s3api, MinIO …).
///
/// A write is a multipart upload of the object itself: parts go out while the next one fills, and the object
/// becomes visible only when `commit` completes the upload (a write smaller than one part is a single PUT at commit).
/// S3 cannot tell who started an upload, so each upload is announced by an empty marker object
/// `.incoming/<writer>/<key>/<upload id>` (image keys never start with "."; `keys()` leaves these out): a node's
/// `removeIncomplete()` aborts the uploads under its own writer name only, so nodes sharing a bucket never remove
/// each other's writes in progress.
public final class S3BlobStore: BlobStore {
    public let location: S3Location
    /// This store's writer (a node id).
    public let writer: String
    /// Bytes per uploaded part (the last part may be smaller). AWS wants at least 5 MiB.
    public let partSize: Int
    /// Parts one upload signs and sends at once.
    public let partsInFlight: Int
    /// Bytes per ranged GET when reading.
    public let readChunkSize: Int
    /// Parts one upload may have: S3's limit, lowered by tests.
    let maxParts: Int
    /// The largest object this store can write: `maxParts` parts of `partSize`.
    public var largestObject: Int64 { Int64(partSize).multipliedReportingOverflow(by: Int64(maxParts)).partialValue }
    let client: S3Client
    static let incomingPrefix = ".incoming/"

    public init(
        location: S3Location, credentials: S3Credentials, writer: String = "local", partSize: Int = 16 << 20,
        partsInFlight: Int = 2, readChunkSize: Int = 4 << 20, httpClient: HTTPClient = .shared, attempts: Int = 5, maxParts: Int = 10_000
    ) throws {
        guard Self.isPlainName(writer) else { throw S3Error.invalidKey(writer) }
        guard partSize >= 64 << 10, readChunkSize >= 4096 else {
            throw S3Error.invalidLocation("part size must be at least 64 KiB and read chunks at least 4 KiB")
        }
        self.location = location
        self.writer = writer
        self.partSize = partSize
        self.partsInFlight = min(max(1, partsInFlight), S3Location.partsInFlightRange.upperBound)
        self.readChunkSize = readChunkSize
        self.maxParts = max(1, maxParts)
        self.client = S3Client(
            location: location, signer: S3SigV4Signer(credentials: credentials, region: location.region),
            http: httpClient, attempts: max(1, attempts), timeout: .seconds(300))
    }

    /// The access key for `location`: from its `credentials=` file when given, else from `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY`.
    public static func credentials(for location: S3Location, environment: [String: String], readFile: (String) throws -> String) throws -> S3Credentials {
        if let file = location.credentialsFile {
            guard let credentials = S3Credentials.parse(credentialsFile: try readFile(file)) else {
                throw S3Error.missingCredentials("\(file) has no aws_access_key_id and aws_secret_access_key")
            }
            return credentials
        }
        guard let credentials = S3Credentials.fromEnvironment(environment) else {
            throw S3Error.missingCredentials("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or credentials=FILE in the s3:// URL")
        }
        return credentials
    }

    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("/") && !name.hasPrefix(".") && name.utf8.count <= 512
    }

    func checkedKey(_ key: String) throws -> String {
        guard Self.isPlainName(key) else { throw S3Error.invalidKey(key) }
        return key
    }

    /// Creates the bucket; no error when it exists already and belongs to these credentials.
    public func createBucketIfMissing() async throws {
        let response = try await client.send(S3Request(operation: "CreateBucket", method: .PUT, key: nil, idempotent: true))
        if response.status == 409, S3XML.value("Code", in: response.text) == "BucketAlreadyOwnedByYou" { return }
        try response.check("CreateBucket")
    }

    public func makeWriter(key: String) async throws -> any BlobWriter {
        let key = try checkedKey(key)
        let created = try await client.send(S3Request(
            operation: "CreateMultipartUpload", method: .POST, key: key, query: [("uploads", "")],
            headers: [("x-amz-meta-glimpse-writer", writer)], idempotent: false))
        try created.check("CreateMultipartUpload")
        guard let uploadID = S3XML.value("UploadId", in: created.text), !uploadID.isEmpty else {
            throw S3Error.malformedResponse("CreateMultipartUpload without an UploadId")
        }
        let marker = Self.incomingPrefix + "\(writer)/\(key)/\(uploadID)"
        do {
            try await client.send(S3Request(operation: "PutObject", method: .PUT, key: marker, idempotent: true))
                .check("PutObject (upload marker)")
        } catch {
            _ = try? await client.send(Self.abort(key: key, uploadID: uploadID))
            throw error
        }
        return S3BlobWriter(store: self, key: key, uploadID: uploadID, marker: marker)
    }

    static func abort(key: String, uploadID: String) -> S3Request {
        S3Request(
            operation: "AbortMultipartUpload", method: .DELETE, key: key, query: [("uploadId", uploadID)], idempotent: true)
    }

    /// HEAD of an object: size and ETag, or nil when it does not exist.
    func head(_ key: String) async throws -> (size: Int64, etag: String?)? {
        let response = try await client.send(S3Request(operation: "HeadObject", method: .HEAD, key: key, idempotent: true))
        if response.status == 404 { return nil }
        try response.check("HeadObject")
        guard let length = response.headers.first(name: "content-length").flatMap({ Int64($0) }) else {
            throw S3Error.malformedResponse("HeadObject without Content-Length")
        }
        return (length, response.etag)
    }

    public func read(key: String, range: Range<Int64>?) async throws -> BlobChunks? {
        guard let object = try await head(try checkedKey(key)) else { return nil }
        let wanted = (range ?? 0..<object.size).clamped(to: 0..<object.size)
        return BlobChunks(
            source: S3ChunkSource(client: client, key: key, etag: object.etag, range: wanted, chunkSize: readChunkSize))
    }

    public func size(key: String) async throws -> Int64? {
        try await head(try checkedKey(key))?.size
    }

    /// S3 does not share or compress what it stores in a way it reports: the object's size.
    public func allocatedBytes(key: String) async throws -> Int64? {
        try await size(key: key)
    }

    public func delete(key: String) async throws {
        let response = try await client.send(
            S3Request(operation: "DeleteObject", method: .DELETE, key: try checkedKey(key), idempotent: true))
        try response.check("DeleteObject", alsoAccepted: [404])
    }

    public func keys() async throws -> [String] {
        try await list(prefix: nil).filter { !$0.hasPrefix(".") }
    }

    /// Every key under `prefix`.
    func list(prefix: String?) async throws -> [String] {
        try await listObjects(prefix: prefix).map(\.key)
    }

    /// Every object under `prefix` with its size and LastModified (ListObjectsV2, page by page).
    func listObjects(prefix: String?) async throws -> [StoredObject] {
        var objects: [StoredObject] = []
        var token: String?
        repeat {
            var query = [("list-type", "2")]
            if let prefix { query.append(("prefix", prefix)) }
            if let token { query.append(("continuation-token", token)) }
            let response = try await client.send(
                S3Request(operation: "ListObjectsV2", method: .GET, key: nil, query: query, idempotent: true), maxBody: 64 << 20)
            try response.check("ListObjectsV2")
            let text = response.text
            for contents in S3XML.elements("Contents", in: text) {
                guard let key = S3XML.value("Key", in: contents) else { continue }
                guard let size = S3XML.value("Size", in: contents).flatMap({ Int64($0) }),
                    let modified = S3XML.value("LastModified", in: contents).flatMap({ Timestamp(iso8601: $0) })
                else { throw S3Error.malformedResponse("ListObjectsV2 entry \(key) without Size or LastModified") }
                objects.append(StoredObject(key: key, size: size, modified: modified))
            }
            let truncated = S3XML.value("IsTruncated", in: text) == "true"
            token = truncated ? S3XML.value("NextContinuationToken", in: text) : nil
            if truncated, token == nil { throw S3Error.malformedResponse("truncated listing without a continuation token") }
        } while token != nil
        return objects
    }

    public func removeIncomplete() async throws -> Int {
        try await removeUploads(ofWriter: writer)
    }

    public func removeIncomplete(ofWriter writer: String) async throws -> Int {
        guard Self.isPlainName(writer), writer != self.writer else { return 0 }
        return try await removeUploads(ofWriter: writer)
    }

    /// Aborts every upload `writer` announced and removes its markers; returns how many.
    private func removeUploads(ofWriter writer: String) async throws -> Int {
        let prefix = Self.incomingPrefix + writer + "/"
        var removed = 0
        for marker in try await list(prefix: prefix) {
            let rest = marker.dropFirst(prefix.count)
            guard let slash = rest.firstIndex(of: "/") else { continue }
            let key = String(rest[..<slash])
            let uploadID = String(rest[rest.index(after: slash)...])
            // Gone already (completed or aborted just before a crash) is as good as aborted.
            try await client.send(Self.abort(key: key, uploadID: uploadID)).check("AbortMultipartUpload", alsoAccepted: [404])
            try await client.send(S3Request(operation: "DeleteObject", method: .DELETE, key: marker, idempotent: true))
                .check("DeleteObject (upload marker)", alsoAccepted: [404])
            removed += 1
        }
        return removed
    }

    /// The multipart uploads in progress in the bucket (key, upload id, start), all writers.
    public func uploadsInProgress() async throws -> [(key: String, uploadID: String, initiated: Date?)] {
        var uploads: [(key: String, uploadID: String, initiated: Date?)] = []
        var keyMarker: String?
        var uploadMarker: String?
        repeat {
            var query = [("uploads", "")]
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let uploadMarker { query.append(("upload-id-marker", uploadMarker)) }
            let response = try await client.send(
                S3Request(operation: "ListMultipartUploads", method: .GET, key: nil, query: query, idempotent: true),
                maxBody: 64 << 20)
            try response.check("ListMultipartUploads")
            let text = response.text
            for upload in S3XML.elements("Upload", in: text) {
                if let key = S3XML.value("Key", in: upload), let id = S3XML.value("UploadId", in: upload) {
                    uploads.append((key, id, S3XML.value("Initiated", in: upload).flatMap(Self.parseTimestamp)))
                }
            }
            let truncated = S3XML.value("IsTruncated", in: text) == "true"
            keyMarker = truncated ? S3XML.value("NextKeyMarker", in: text) : nil
            uploadMarker = truncated ? S3XML.value("NextUploadIdMarker", in: text) : nil
        } while keyMarker != nil
        return uploads
    }

    /// S3's ISO 8601 timestamps, with or without fractional seconds.
    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
