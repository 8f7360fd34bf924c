import Crypto
import GlimpseCore
import GlimpseDiskFormats
import GlimpseStorage
import NIOCore
import NIOPosix

/// The upload hot path. Network buffers are gathered into large chunks; every chunk goes through three lanes,
/// MD5, SHA-512 and the blob write, each running on its own thread and taking chunks strictly in order. The lanes
/// are decoupled so that the slowest one (SHA-512) never waits for the others: at most `depth` chunks are in flight,
/// whatever the image size, and their buffers are reused.
final class UploadPipeline: Sendable {
    struct Result: Sendable {
        var size: Int64
        var md5: String
        var sha512: String
        /// What the data is (format, virtual size, safety), when the copy was asked to inspect it.
        var inspection: DiskImageInspection?
    }

    static let chunkSize = 1 << 20
    static let depth = 3
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

    /// One chunk on its way through the lanes.
    private struct InFlight {
        var buffer: ByteBuffer
        var md5: Task<Void, any Error>
        var sha: Task<Void, any Error>
        var write: Task<Void, any Error>

        func wait() async throws {
            try await md5.value
            try await sha.value
            try await write.value
        }

        /// Waits for the lanes and hands the buffer back for reuse.
        consuming func finished() async throws -> ByteBuffer {
            try await wait()
            return buffer
        }
    }

    /// Streams `body` into `writer`. More than `limit` bytes fail with `limitError`; a `reservation` is grown to
    /// cover the bytes before they are accepted (quota).
    func copy<Body: AsyncSequence & Sendable>(
        _ body: Body, into writer: any BlobWriter, limit: Int64, limitError: GlimpseError,
        reservation: QuotaReservation? = nil, inspect: Bool = false
    ) async throws -> Result where Body.Element == ByteBuffer {
        let digests = Digests()
        var total: Int64 = 0
        // The inspector sees every byte in order as it passes and keeps only the header regions it needs.
        var inspector = DiskImageInspector()
        var chunk = ByteBufferAllocator().buffer(capacity: Self.chunkSize)
        var inFlight: [InFlight] = []
        do {
            for try await part in body {
                total += Int64(part.readableBytes)
                if total > limit { throw limitError }
                if let reservation, total > reservation.granted { try await reservation.cover(total) }
                if inspect { part.withUnsafeReadableBytes { inspector.feed($0) } }
                chunk.writeImmutableBuffer(part)
                if chunk.readableBytes >= Self.chunkSize {
                    inFlight.append(start(chunk, after: inFlight.last, writer: writer, digests: digests))
                    if inFlight.count >= Self.depth {
                        chunk = try await inFlight.removeFirst().finished()
                        chunk.clear()  // reuses the storage once the lanes have let go of it
                    } else {
                        chunk = ByteBufferAllocator().buffer(capacity: Self.chunkSize)
                    }
                }
            }
            if chunk.readableBytes > 0 {
                inFlight.append(start(chunk, after: inFlight.last, writer: writer, digests: digests))
            }
            for item in inFlight { try await item.wait() }
        } catch {
            // Let every lane finish before the caller cancels the writer under it.
            for item in inFlight { try? await item.wait() }
            throw error
        }
        let (md5, sha) = digests.finish()
        return Result(size: total, md5: md5, sha512: sha, inspection: inspect ? inspector.finish() : nil)
    }

    /// Queues `chunk` on each lane behind the previous chunk of the same lane.
    private func start(_ chunk: ByteBuffer, after previous: InFlight?, writer: any BlobWriter, digests: Digests) -> InFlight {
        let pool = hashPool
        let (md5Before, shaBefore, writeBefore) = (previous?.md5, previous?.sha, previous?.write)
        return InFlight(
            buffer: chunk,
            md5: Task {
                try await md5Before?.value
                try await pool.runIfActive { digests.updateMD5(chunk) }
            },
            sha: Task {
                try await shaBefore?.value
                try await pool.runIfActive { digests.updateSHA512(chunk) }
            },
            write: Task {
                try await writeBefore?.value
                try await writer.write(chunk)
            }
        )
    }
}

/// The two running digests. Each is touched by one thread at a time: a lane processes chunks strictly in order.
final class Digests: @unchecked Sendable {
    private var md5 = Insecure.MD5()
    private var sha = SHA512()
    private let systemSHA = SystemSHA512.make()

    func updateMD5(_ b: ByteBuffer) { b.withUnsafeReadableBytes { md5.update(bufferPointer: $0) } }
    func updateSHA512(_ b: ByteBuffer) {
        b.withUnsafeReadableBytes { bytes in
            if let systemSHA { systemSHA.update(bytes) } else { sha.update(bufferPointer: bytes) }
        }
    }

    func finish() -> (String, String) {
        (Self.hex(md5.finalize()), systemSHA.map { Self.hex($0.finalize()) } ?? Self.hex(sha.finalize()))
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
