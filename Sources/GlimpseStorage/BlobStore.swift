import NIOCore

/// Image bytes, addressed by key. Writes stream into an object that becomes visible only on `commit`;
/// reads stream back, optionally a byte range. Nothing is ever held whole in memory.
public protocol BlobStore: Sendable {
    func makeWriter(key: String) async throws -> any BlobWriter
    /// The object's bytes in `range` (whole object when nil), or nil when the key does not exist.
    func read(key: String, range: Range<Int64>?) async throws -> BlobChunks?
    func size(key: String) async throws -> Int64?
    /// Removes the object; no error if it does not exist.
    func delete(key: String) async throws
    func keys() async throws -> [String]
    /// Removes half-written objects this store's writer left in a crash; returns how many. Several nodes may share
    /// one backend, each with its own writer name: another writer's objects in progress are left alone.
    func removeIncomplete() async throws -> Int
    /// Removes half-written objects of another writer, which the caller knows to be dead; returns how many.
    func removeIncomplete(ofWriter writer: String) async throws -> Int
    /// Bytes the object actually occupies in the backend (holes and sharing make it smaller than its size).
    func allocatedBytes(key: String) async throws -> Int64?
    /// Every committed object with its size and last modification (what garbage collection judges by).
    func storedObjects() async throws -> [StoredObject]
    /// Every write in progress or abandoned, of every writer, with who announced it and when it started.
    func incompleteWrites() async throws -> [IncompleteWrite]
    /// Removes one write `incompleteWrites()` listed (whoever its writer); no error when it is gone already.
    func removeIncompleteWrite(_ write: IncompleteWrite) async throws
}

/// A write in progress. Exactly one of `commit` or `cancel` ends it.
public protocol BlobWriter: Sendable {
    func write(_ buffer: ByteBuffer) async throws
    func commit() async throws
    func cancel() async
}

/// A pull-based stream of an object's bytes: each `next()` reads one chunk, so a slow client slows the reads.
public struct BlobChunks: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let source: any BlobChunkSource

    public init(source: any BlobChunkSource) { self.source = source }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let source: any BlobChunkSource
        public mutating func next() async throws -> ByteBuffer? { try await source.nextChunk() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(source: source) }

    /// The open file and byte range behind these chunks, handed over (the caller must close it), so the bytes can
    /// be sent with `sendfile(2)`; nil when the backend has no local file or reading has begun.
    public func takeFile() -> (descriptor: Int32, range: Range<Int64>)? { source.takeFile() }
}

/// The backend side of `BlobChunks`. Backends release resources when the source is deallocated.
public protocol BlobChunkSource: AnyObject, Sendable {
    func nextChunk() async throws -> ByteBuffer?
    func takeFile() -> (descriptor: Int32, range: Range<Int64>)?
}

extension BlobChunkSource {
    public func takeFile() -> (descriptor: Int32, range: Range<Int64>)? { nil }
}
