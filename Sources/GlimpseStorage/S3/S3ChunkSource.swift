// Reads an S3 object as a sequence of ranged GETs, one chunk ahead of the consumer.
import NIOCore

/// Each chunk is one ranged GET; the next one is requested while the current one is consumed. Every answer must
/// carry the ETag seen when the read began, so an object replaced mid-read fails instead of mixing versions.
final class S3ChunkSource: BlobChunkSource, @unchecked Sendable {
    // `position` and `ahead` are touched by one consumer at a time (an async iterator is not shared).
    private let client: S3Client
    private let key: String
    private let etag: String?
    private var position: Int64
    private let end: Int64
    private let chunkSize: Int
    private var ahead: Task<ByteBuffer, any Error>?

    init(client: S3Client, key: String, etag: String?, range: Range<Int64>, chunkSize: Int) {
        self.client = client
        self.key = key
        self.etag = etag
        self.position = range.lowerBound
        self.end = range.upperBound
        self.chunkSize = chunkSize
    }

    deinit { ahead?.cancel() }

    func nextChunk() async throws -> ByteBuffer? {
        let pending: Task<ByteBuffer, any Error>
        if let ahead {
            pending = ahead
            self.ahead = nil
        } else {
            guard let first = startRead() else { return nil }
            pending = first
        }
        let buffer = try await pending.value
        ahead = startRead()
        return buffer
    }

    /// Starts the GET of the chunk at `position` and advances past it; nil at the end of the range.
    private func startRead() -> Task<ByteBuffer, any Error>? {
        guard position < end else { return nil }
        let count = Int(min(Int64(chunkSize), end - position))
        let (client, key, etag, from) = (self.client, self.key, self.etag, self.position)
        position += Int64(count)
        return Task {
            let range = ("range", "bytes=\(from)-\(from + Int64(count) - 1)")
            let response = try await client.send(
                S3Request(operation: "GetObject", method: .GET, key: key, headers: [range], idempotent: true),
                maxBody: count + 1)
            if response.status == 404 { throw S3Error.objectChanged(key) }
            try response.check("GetObject")
            // Compared here rather than sent as If-Match: S3 implementations differ in how they match multipart ETags.
            if let etag, response.etag != etag { throw S3Error.objectChanged(key) }
            guard response.body.readableBytes == count else {
                throw S3Error.malformedResponse("GetObject returned \(response.body.readableBytes) bytes, \(count) asked")
            }
            return response.body
        }
    }
}
