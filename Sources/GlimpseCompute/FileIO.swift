#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GlimpseCore
import NIOCore
import NIOPosix

/// Streams a local file as ByteBuffers, one bounded chunk per `next()`, reading on the NIO thread pool, so
/// snapshot data flows from disk into the image store without being held in memory.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let chunkSize: Int

    init(path: String, chunkSize: Int = 1 << 20) {
        self.path = path
        self.chunkSize = chunkSize
    }

    func makeAsyncIterator() -> Iterator { Iterator(reader: FileReader(path: path, chunkSize: chunkSize)) }

    struct Iterator: AsyncIteratorProtocol {
        let reader: FileReader
        mutating func next() async throws -> ByteBuffer? { try await reader.next() }
    }
}

/// One sequential reader; used by one iterator at a time.
final class FileReader: @unchecked Sendable {
    let path: String
    let chunkSize: Int
    var fd: Int32 = -1
    var offset: Int64 = 0
    var done = false

    init(path: String, chunkSize: Int) {
        self.path = path
        self.chunkSize = chunkSize
    }

    deinit { if fd >= 0 { close(fd) } }

    func next() async throws -> ByteBuffer? {
        if done { return nil }
        let path = path, chunk = chunkSize, offset = offset
        var fd = self.fd
        if fd < 0 {
            fd = try await NIOThreadPool.singleton.runIfActive {
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw GlimpseError.internalError("cannot open \(path): errno \(errno)") }
                return fd
            }
            self.fd = fd
        }
        let readFD = fd
        let buffer: ByteBuffer = try await NIOThreadPool.singleton.runIfActive {
            var b = ByteBufferAllocator().buffer(capacity: chunk)
            let n = b.writeWithUnsafeMutableBytes(minimumWritableBytes: chunk) { ptr in
                let r = pread(readFD, ptr.baseAddress, chunk, off_t(offset))
                return r < 0 ? 0 : r
            }
            _ = n
            return b
        }
        if buffer.readableBytes == 0 {
            done = true
            close(fd)
            self.fd = -1
            return nil
        }
        self.offset += Int64(buffer.readableBytes)
        return buffer
    }
}

/// Writes a stream of buffers to a new file, leaving runs of zeros as holes, and makes it durable.
enum FileSink {
    static func write<S: AsyncSequence>(_ chunks: S, to path: String) async throws -> Int64 where S.Element == ByteBuffer {
        let fd: Int32 = try await NIOThreadPool.singleton.runIfActive {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw GlimpseError.internalError("cannot create \(path): errno \(errno)") }
            return fd
        }
        var offset: Int64 = 0
        do {
            for try await chunk in chunks {
                let start = offset
                try await NIOThreadPool.singleton.runIfActive {
                    try chunk.withUnsafeReadableBytes { raw in
                        // Zero blocks of 4 KiB become holes.
                        var i = 0
                        let block = 4096
                        while i < raw.count {
                            let n = min(block, raw.count - i)
                            let slice = UnsafeRawBufferPointer(rebasing: raw[i..<(i + n)])
                            if !slice.allSatisfy({ $0 == 0 }) {
                                var done = 0
                                while done < n {
                                    let w = pwrite(fd, slice.baseAddress! + done, n - done, off_t(start + Int64(i + done)))
                                    if w < 0 {
                                        if errno == EINTR { continue }
                                        throw GlimpseError.internalError("write to \(path) failed: errno \(errno)")
                                    }
                                    done += w
                                }
                            }
                            i += n
                        }
                    }
                }
                offset += Int64(chunk.readableBytes)
            }
            let size = offset
            try await NIOThreadPool.singleton.runIfActive {
                guard ftruncate(fd, off_t(size)) == 0, fsync(fd) == 0 else {
                    throw GlimpseError.internalError("cannot finish \(path): errno \(errno)")
                }
            }
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        close(fd)
        return offset
    }
}
