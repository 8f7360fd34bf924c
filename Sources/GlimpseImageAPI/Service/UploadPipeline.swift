import Crypto
import GlimpseCore
import GlimpseStorage
import NIOCore
import NIOPosix

/// The upload hot path. Network buffers are gathered into large chunks; each chunk is written to the blob and fed
/// to MD5 and SHA-512 on separate threads at the same time, while the next chunk is being received. At most two
/// chunks are in memory, whatever the image size.
final class UploadPipeline: Sendable {
    struct Result: Sendable {
        var size: Int64
        var md5: String
        var sha512: String
        /// The first bytes, for reading disk headers (qcow2 virtual size).
        var head: [UInt8]
    }

    static let chunkSize = 2 << 20
    static let headSize = 512
    /// Two threads for the two digests, shared by every upload in the process.
    static let sharedHashPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()
    let hashPool: NIOThreadPool

    init() {
        hashPool = Self.sharedHashPool
    }

    func copy<Body: AsyncSequence & Sendable>(
        _ body: Body, into writer: any BlobWriter, limit: Int64, limitError: GlimpseError
    ) async throws -> Result where Body.Element == ByteBuffer {
        let digests = Digests()
        var total: Int64 = 0
        var head: [UInt8] = []
        var chunk = ByteBufferAllocator().buffer(capacity: Self.chunkSize)
        var inFlight: Task<Void, any Error>?
        do {
            for try await part in body {
                total += Int64(part.readableBytes)
                if total > limit { throw limitError }
                if head.count < Self.headSize {
                    head += part.getBytes(at: part.readerIndex, length: min(Self.headSize - head.count, part.readableBytes)) ?? []
                }
                chunk.writeImmutableBuffer(part)
                if chunk.readableBytes >= Self.chunkSize {
                    try await inFlight?.value
                    inFlight = process(chunk, writer: writer, digests: digests)
                    chunk = ByteBufferAllocator().buffer(capacity: Self.chunkSize)
                }
            }
            try await inFlight?.value
            inFlight = nil
            if chunk.readableBytes > 0 { try await process(chunk, writer: writer, digests: digests).value }
        } catch {
            // Let the chunk in flight finish before the caller cancels the writer under it.
            _ = try? await inFlight?.value
            throw error
        }
        let (md5, sha) = digests.finish()
        return Result(size: total, md5: md5, sha512: sha, head: head)
    }

    private func process(_ chunk: ByteBuffer, writer: any BlobWriter, digests: Digests) -> Task<Void, any Error> {
        let pool = hashPool
        return Task {
            async let md5: Void = pool.runIfActive { digests.updateMD5(chunk) }
            async let sha: Void = pool.runIfActive { digests.updateSHA512(chunk) }
            try await writer.write(chunk)
            try await md5
            try await sha
        }
    }
}

/// The two running digests. Each is touched by one thread at a time: chunks are processed strictly in order.
final class Digests: @unchecked Sendable {
    private var md5 = Insecure.MD5()
    private var sha = SHA512()

    func updateMD5(_ b: ByteBuffer) { b.withUnsafeReadableBytes { md5.update(bufferPointer: $0) } }
    func updateSHA512(_ b: ByteBuffer) { b.withUnsafeReadableBytes { sha.update(bufferPointer: $0) } }

    func finish() -> (String, String) {
        (Self.hex(md5.finalize()), Self.hex(sha.finalize()))
    }

    static func hex<D: Sequence>(_ d: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in d {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
