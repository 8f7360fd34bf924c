#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers

/// Linux's O_DIRECT, which Glibc's module map leaves out (it needs _GNU_SOURCE); its value depends on the CPU.
#if arch(arm64) || arch(arm)
let directIO: Int32 = 0o200000
#else
let directIO: Int32 = 0o40000
#endif

/// `BlobStore` on the local filesystem. A write goes to `incoming/<writer>/<key>.<random>`, is fsynced and renamed
/// into `objects/<key>` on commit, so a crash never exposes a partial object. Runs of zero bytes are left as holes.
/// Several nodes may share the directory (as Glance nodes share an NFS mount), each with its own writer name, so a
/// node cleaning up after its own crash never removes another node's write in progress.
/// A delete renames the object into `trash/` at once and unlinks it in the background: freeing the extents of a
/// large durable file takes hundreds of milliseconds (more with `discard` mounts), which a client should not wait for.
public final class FileBlobStore: BlobStore {
    public let root: String
    /// This store's writer (a node id): its writes in progress live under `incoming/<writer>`.
    public let writer: String
    let objects: String
    let incoming: String
    let ownIncoming: String
    let trash: String
    let pool: NIOThreadPool
    let reclaims = PendingReclaims()
    static let readChunk = 1 << 20

    public init(root: String, writer: String = "local", threadPool: NIOThreadPool = .singleton) throws {
        guard Self.isPlainName(writer) else { throw FileError(op: "writer", path: writer, code: EINVAL) }
        self.root = root
        self.writer = writer
        self.objects = root + "/objects"
        self.incoming = root + "/incoming"
        self.ownIncoming = incoming + "/" + writer
        self.trash = root + "/trash"
        self.pool = threadPool
        for dir in [root, objects, incoming, ownIncoming, trash] { try Self.makeDirectory(dir) }
    }

    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("/") && !name.hasPrefix(".")
    }

    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            throw FileError(op: "mkdir", path: path, code: errno)
        }
    }

    func path(for key: String) throws -> String {
        guard Self.isPlainName(key) else {
            throw FileError(op: "key", path: key, code: EINVAL)
        }
        return objects + "/" + key
    }

    public func makeWriter(key: String) async throws -> any BlobWriter {
        let final = try path(for: key)
        let temp = ownIncoming + "/" + key + "." + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let fd = try await pool.runIfActive {
            // Direct I/O: the bytes go from the writer's buffer to the disk without a page-cache copy, and the
            // commit's fsync has nothing left to flush. Filesystems without it (tmpfs on old kernels) get buffered I/O.
            var fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | directIO, 0o600)
            if fd < 0, errno == EINVAL {
                fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            }
            guard fd >= 0 else { throw FileError(op: "open", path: temp, code: errno) }
            return fd
        }
        return FileBlobWriter(fd: fd, tempPath: temp, finalPath: final, directory: objects, pool: pool)
    }

    public func read(key: String, range: Range<Int64>?) async throws -> BlobChunks? {
        let p = try path(for: key)
        let fd: Int32? = try await pool.runIfActive {
            let fd = open(p, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                if errno == ENOENT { return nil }
                throw FileError(op: "open", path: p, code: errno)
            }
            return fd
        }
        guard let fd else { return nil }
        let size = Int64(try Self.fileStatus(fd: fd).st_size)
        let r = range ?? 0..<size
        return BlobChunks(source: FileChunkSource(fd: fd, range: r.clamped(to: 0..<size), pool: pool))
    }

    static func fileStatus(fd: Int32) throws -> Glibc.stat {
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0 else { throw FileError(op: "fstat", path: "fd", code: errno) }
        return st
    }

    func statPath(_ p: String) -> Glibc.stat? {
        var st = Glibc.stat()
        return lstat(p, &st) == 0 ? st : nil
    }

    public func size(key: String) async throws -> Int64? {
        let p = try path(for: key)
        return statPath(p).map { Int64($0.st_size) }
    }

    public func allocatedBytes(key: String) async throws -> Int64? {
        let p = try path(for: key)
        return statPath(p).map { Int64($0.st_blocks) * 512 }
    }

    public func delete(key: String) async throws {
        let p = try path(for: key)
        let doomed = trash + "/" + key + "." + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let moved = try await pool.runIfActive {
            if rename(p, doomed) == 0 { return true }
            if errno == ENOENT { return false }
            throw FileError(op: "rename", path: p, code: errno)
        }
        guard moved else { return }
        reclaims.start(on: pool) { unlink(doomed) }
    }

    /// Waits until every deleted object's space has been given back to the filesystem.
    public func reclaimed() async { await reclaims.drained() }

    public func keys() async throws -> [String] { Self.list(objects) }

    public func removeIncomplete() async throws -> Int {
        // Deleted objects whose unlink a crash interrupted are finished off too (any node may: they are deleted
        // already); they are not counted. Files directly in incoming/ predate writer directories (one node).
        for name in Self.list(trash) { unlink(trash + "/" + name) }
        var removed = 0
        for name in Self.list(incoming) where unlink(incoming + "/" + name) == 0 { removed += 1 }
        return removed + Self.removeAll(in: ownIncoming)
    }

    public func removeIncomplete(ofWriter writer: String) async throws -> Int {
        guard Self.isPlainName(writer), writer != self.writer else { return 0 }
        let directory = incoming + "/" + writer
        let removed = Self.removeAll(in: directory)
        rmdir(directory)
        return removed
    }

    private static func removeAll(in directory: String) -> Int {
        var removed = 0
        for name in list(directory) where unlink(directory + "/" + name) == 0 { removed += 1 }
        return removed
    }

    static func list(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }
}

/// Background unlinks in progress, so that tests (and shutdown) can wait for them.
final class PendingReclaims: @unchecked Sendable {
    private let lock = NIOLock()
    private var running = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func start(on pool: NIOThreadPool, _ work: @escaping @Sendable () -> Void) {
        lock.withLock { running += 1 }
        pool.submit { _ in
            work()
            let resume = self.lock.withLock { () -> [CheckedContinuation<Void, Never>] in
                self.running -= 1
                guard self.running == 0 else { return [] }
                defer { self.waiters = [] }
                return self.waiters
            }
            for w in resume { w.resume() }
        }
    }

    func drained() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = lock.withLock { () -> Bool in
                if running == 0 { return true }
                waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }
}

/// A POSIX failure with the operation and path, for logs.
public struct FileError: Error, CustomStringConvertible {
    public var op: String
    public var path: String
    public var code: Int32
    public var description: String { "\(op) \(path): \(String(cString: strerror(code)))" }
}

/// Gathers bytes into an aligned staging buffer and writes it out in large aligned blocks, as direct I/O requires.
final class FileBlobWriter: BlobWriter, @unchecked Sendable {
    // Mutable state is touched by one caller at a time: a writer is driven sequentially by its upload.
    private var fd: Int32
    /// Bytes accepted so far (the object's size).
    private var size: Int64 = 0
    /// File offset of the staging buffer's first byte; always a multiple of `stagingSize`.
    private var stagedAt: Int64 = 0
    private var staged = 0
    private let staging: UnsafeMutableRawPointer
    private let tempPath: String
    private let finalPath: String
    private let directory: String
    private let pool: NIOThreadPool
    static let block = 64 * 1024
    static let alignment = 4096
    static let stagingSize = 2 << 20

    init(fd: Int32, tempPath: String, finalPath: String, directory: String, pool: NIOThreadPool) {
        self.fd = fd
        self.tempPath = tempPath
        self.finalPath = finalPath
        self.directory = directory
        self.pool = pool
        var p: UnsafeMutableRawPointer?
        precondition(posix_memalign(&p, Self.alignment, Self.stagingSize) == 0, "out of memory")
        self.staging = p!
    }

    deinit {
        free(staging)
        if fd >= 0 {
            close(fd)
            unlink(tempPath)
        }
    }

    func write(_ buffer: ByteBuffer) async throws {
        size += Int64(buffer.readableBytes)
        try await pool.runIfActive {
            try buffer.withUnsafeReadableBytes { raw in try self.stage(raw) }
        }
    }

    private func stage(_ bytes: UnsafeRawBufferPointer) throws {
        var pos = 0
        while pos < bytes.count {
            let n = min(Self.stagingSize - staged, bytes.count - pos)
            (staging + staged).copyMemory(from: bytes.baseAddress! + pos, byteCount: n)
            staged += n
            pos += n
            if staged == Self.stagingSize { try flush(count: staged) }
        }
    }

    /// Writes the first `count` staged bytes (a multiple of `alignment`) and empties the staging buffer.
    private func flush(count: Int) throws {
        try Self.writeSkippingZeroBlocks(fd: fd, bytes: UnsafeRawBufferPointer(start: staging, count: count), at: stagedAt)
        stagedAt += Int64(Self.stagingSize)
        staged = 0
    }

    /// Writes `bytes` at `offset`, leaving whole zero blocks as holes (the file is extended on commit).
    static func writeSkippingZeroBlocks(fd: Int32, bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        var pos = 0
        while pos < bytes.count {
            // Find a run of non-zero blocks and write it in one call.
            var end = pos
            while end < bytes.count {
                let n = min(block, bytes.count - end)
                if n == block, isZero(UnsafeRawBufferPointer(rebasing: bytes[end..<(end + n)])) { break }
                end += n
            }
            if end > pos {
                try pwriteAll(fd: fd, UnsafeRawBufferPointer(rebasing: bytes[pos..<end]), at: offset + Int64(pos))
                pos = end
            } else {
                pos += block
            }
        }
    }

    static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let words = bytes.count / 8
        let p = bytes.baseAddress!
        var acc: UInt64 = 0
        var i = 0
        while i < words {
            acc |= p.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
            if i & 255 == 255, acc != 0 { return false }
            i += 1
        }
        for j in (words * 8)..<bytes.count { acc |= UInt64(bytes[j]) }
        return acc == 0
    }

    static func pwriteAll(fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        var done = 0
        var triedBuffered = false
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + Int64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                // A filesystem may accept O_DIRECT at open and refuse the write; fall back to buffered I/O.
                if errno == EINVAL, !triedBuffered {
                    triedBuffered = true
                    let flags = fcntl(fd, F_GETFL)
                    if flags >= 0, flags & directIO != 0, fcntl(fd, F_SETFL, flags & ~directIO) == 0 { continue }
                }
                throw FileError(op: "write", path: "blob", code: errno)
            }
            done += n
        }
    }

    func commit() async throws {
        let (fd, size, temp, final, dir) = (self.fd, self.size, tempPath, finalPath, directory)
        try await pool.runIfActive {
            if self.staged > 0 {
                // The tail is padded with zeros to the alignment and cut back to the real size below.
                let padded = (self.staged + Self.alignment - 1) / Self.alignment * Self.alignment
                (self.staging + self.staged).initializeMemory(as: UInt8.self, repeating: 0, count: padded - self.staged)
                try self.flush(count: padded)
            }
            guard ftruncate(fd, off_t(size)) == 0 else { throw FileError(op: "ftruncate", path: temp, code: errno) }
            guard fsync(fd) == 0 else { throw FileError(op: "fsync", path: temp, code: errno) }
            guard rename(temp, final) == 0 else { throw FileError(op: "rename", path: final, code: errno) }
            let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dfd >= 0 {
                fsync(dfd)
                close(dfd)
            }
        }
        close(fd)
        self.fd = -1
    }

    func cancel() async {
        guard fd >= 0 else { return }
        close(fd)
        unlink(tempPath)
        fd = -1
    }
}

/// Reads an object chunk by chunk, one chunk ahead of the consumer, so the disk read of the next chunk overlaps
/// the network write of the current one.
final class FileChunkSource: BlobChunkSource, @unchecked Sendable {
    // `position`, `ahead` and `fd` are touched by one consumer at a time (an async iterator is not shared).
    private var fd: Int32
    private let start: Int64
    private var position: Int64
    private let end: Int64
    private let pool: NIOThreadPool
    private var ahead: Task<ByteBuffer, any Error>?

    init(fd: Int32, range: Range<Int64>, pool: NIOThreadPool) {
        self.fd = fd
        self.start = range.lowerBound
        self.position = range.lowerBound
        self.end = range.upperBound
        self.pool = pool
        _ = posix_fadvise(fd, off_t(range.lowerBound), off_t(range.count), POSIX_FADV_SEQUENTIAL)
    }

    deinit {
        // A read still in flight holds no reference to this object, only the descriptor: close it after the read.
        let fd = self.fd
        guard fd >= 0 else { return }
        if let ahead {
            Task { _ = try? await ahead.value; close(fd) }
        } else {
            close(fd)
        }
    }

    func takeFile() -> (descriptor: Int32, range: Range<Int64>)? {
        guard fd >= 0, ahead == nil, position == start else { return nil }
        defer { fd = -1 }
        return (fd, start..<end)
    }

    func nextChunk() async throws -> ByteBuffer? {
        precondition(fd >= 0, "the file was handed over with takeFile()")
        let buffer: ByteBuffer
        if let pending = ahead {
            ahead = nil
            buffer = try await pending.value
        } else {
            guard let read = startRead() else { return nil }
            buffer = try await read.value
        }
        guard buffer.readableBytes > 0 else { return nil }
        ahead = startRead()
        return buffer
    }

    /// Starts reading the chunk at `position` and advances past it; nil at the end of the range.
    private func startRead() -> Task<ByteBuffer, any Error>? {
        guard position < end else { return nil }
        let count = Int(min(Int64(FileBlobStore.readChunk), end - position))
        let (fd, at, pool) = (self.fd, position, self.pool)
        position += Int64(count)
        return Task {
            try await pool.runIfActive {
                var buffer = ByteBufferAllocator().buffer(capacity: count)
                try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                    var done = 0
                    while done < count {
                        let n = pread(fd, raw.baseAddress! + done, count - done, off_t(at + Int64(done)))
                        if n < 0 {
                            if errno == EINTR { continue }
                            throw FileError(op: "read", path: "blob", code: errno)
                        }
                        if n == 0 { break }
                        done += n
                    }
                    return done
                }
                return buffer
            }
        }
    }
}
