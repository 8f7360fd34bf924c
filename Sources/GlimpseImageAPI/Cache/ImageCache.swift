import Foundation
import GlimpseCore
import GlimpseStorage
import Logging
import NIOCore
import Synchronization

/// The node-local image cache behind `/v2/cache` (Glance's image cache): a second copy of image data in a
/// `BlobStore` of its own (a `FileBlobStore` at `<data-dir>/cache` in the server), from which downloads are served
/// when present. Images get into it when an admin queues them: one background worker copies queued images from the
/// image store (`source`, any `BlobStore`), checking size and digests against the image record, one at a time.
///
/// The index (hits, access times, the queue) is kept in memory and saved as `index.json` next to the cached data, so
/// a restart keeps the cache and resumes the queue. Entries are only added after the data is committed, so a copy
/// that is listed is whole.
public final class ImageCache: Sendable {
    /// What `GET /v2/cache` lists for a cached image. Times are seconds since the epoch, as Glance's drivers keep them.
    public struct Entry: Sendable, Codable, Equatable {
        public var imageID: String
        public var hits: Int64
        public var lastAccessed: Double
        public var lastModified: Double
        public var size: Int64
    }

    /// What `x-image-cache-clear-target` selects.
    public enum ClearTarget: Sendable {
        case cache, queue, both
    }

    struct State: Sendable, Codable {
        var entries: [String: Entry] = [:]
        /// Image ids waiting to be cached, oldest first. An id stays here while the worker copies it.
        var queued: [String] = []
    }

    let store: any BlobStore
    let source: any BlobStore
    let metadata: any MetadataStore
    let indexPath: String?
    let logger: Logger
    let pipeline = UploadPipeline()
    private let state: Mutex<State>
    /// The worker draining the queue, while it runs.
    private let worker = Mutex<Task<Void, Never>?>(nil)

    init(
        store: any BlobStore, source: any BlobStore, metadata: any MetadataStore, indexPath: String?, state: State,
        logger: Logger
    ) {
        self.store = store
        self.source = source
        self.metadata = metadata
        self.indexPath = indexPath
        self.state = Mutex(state)
        self.logger = logger
    }

    /// Opens the cache kept in `directory` (created if needed): data in a `FileBlobStore`, the index beside it.
    public static func open(
        directory: String, source: any BlobStore, metadata: any MetadataStore, logger: Logger
    ) async throws -> ImageCache {
        let store = try FileBlobStore(root: directory)
        return try await open(store: store, indexPath: directory + "/index.json", source: source, metadata: metadata, logger: logger)
    }

    /// Opens a cache over any `BlobStore`; `indexPath` nil keeps the index in memory only.
    /// Reconciles the index with the stored data and the image records, then resumes the queue.
    public static func open(
        store: any BlobStore, indexPath: String?, source: any BlobStore, metadata: any MetadataStore, logger: Logger
    ) async throws -> ImageCache {
        var state = State()
        if let indexPath, let data = FileManager.default.contents(atPath: indexPath) {
            do {
                state = try JSONDecoder().decode(State.self, from: data)
            } catch {
                logger.warning("image cache index \(indexPath) unreadable, starting empty: \(error)")
            }
        }
        _ = try await store.removeIncomplete()
        let keys = Set(try await store.keys())
        // An entry is kept only if its data is there, whole, and still belongs to an image with data.
        for (id, entry) in state.entries {
            var keep = false
            if keys.contains(id), let image = try await metadata.image(id: id), image.status.hasData,
                image.size == entry.size, try await store.size(key: id) == entry.size
            {
                keep = true
            }
            if !keep { state.entries[id] = nil }
        }
        for key in keys where state.entries[key] == nil {
            try await store.delete(key: key)
            logger.notice("image cache: removed data of \(key), which had no valid cache entry")
        }
        var seen = Set<String>()
        state.queued = state.queued.filter { state.entries[$0] == nil && seen.insert($0).inserted }
        let cache = ImageCache(
            store: store, source: source, metadata: metadata, indexPath: indexPath, state: state, logger: logger)
        cache.state.withLock { cache.save($0) }
        if !state.queued.isEmpty { cache.startWorker() }
        return cache
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    // MARK: listing

    /// Cached images by image id, and the queue oldest first.
    public func contents() -> (cached: [Entry], queued: [String]) {
        state.withLock { s in
            (s.entries.values.sorted { $0.imageID < $1.imageID }, s.queued)
        }
    }

    public func contains(_ id: String) -> Bool {
        state.withLock { $0.entries[id] != nil || $0.queued.contains(id) }
    }

    // MARK: serving

    /// The cached bytes of `image` in `range` (whole when nil), counting a hit; nil when the image is not cached
    /// (or its copy does not match the record), and the caller reads the image store instead.
    public func read(_ image: Image, range: Range<Int64>?) async -> BlobChunks? {
        guard let entry = state.withLock({ $0.entries[image.id] }) else { return nil }
        guard entry.size == image.size else {
            await discard(image.id, because: "its size does not match the image's")
            return nil
        }
        let chunks: BlobChunks?
        do {
            chunks = try await store.read(key: image.id, range: range)
        } catch {
            logger.warning("image cache: reading \(image.id) failed, serving from the image store: \(error)")
            return nil
        }
        guard let chunks else {
            await discard(image.id, because: "its data is missing")
            return nil
        }
        let now = Self.now()
        state.withLock { s in
            guard s.entries[image.id] != nil else { return }
            s.entries[image.id]!.hits += 1
            s.entries[image.id]!.lastAccessed = now
            save(s)
        }
        return chunks
    }

    private func discard(_ id: String, because reason: String) async {
        logger.warning("image cache: dropping \(id): \(reason)")
        state.withLock { s in
            s.entries[id] = nil
            save(s)
        }
        try? await store.delete(key: id)
    }

    // MARK: managing

    /// Queues an image for caching; nothing happens if it is cached or queued already.
    public func enqueue(_ id: String) {
        let added = state.withLock { s -> Bool in
            guard s.entries[id] == nil, !s.queued.contains(id) else { return false }
            s.queued.append(id)
            save(s)
            return true
        }
        if added { startWorker() }
    }

    /// Removes an image from the cache and the queue (a copy in progress is thrown away when it finishes).
    public func remove(_ id: String) async {
        let cached = state.withLock { s -> Bool in
            let cached = s.entries.removeValue(forKey: id) != nil
            s.queued.removeAll { $0 == id }
            save(s)
            return cached
        }
        if cached {
            do { try await store.delete(key: id) } catch { logger.warning("image cache: deleting \(id) failed: \(error)") }
        }
    }

    /// Empties the cache, the queue or both; returns how many cached and queued images went.
    @discardableResult
    public func clear(_ target: ClearTarget) async -> (cached: Int, queued: Int) {
        let (ids, queued) = state.withLock { s -> ([String], Int) in
            var ids: [String] = []
            var queued = 0
            if target != .queue {
                ids = Array(s.entries.keys)
                s.entries = [:]
            }
            if target != .cache {
                queued = s.queued.count
                s.queued = []
            }
            save(s)
            return (ids, queued)
        }
        for id in ids {
            do { try await store.delete(key: id) } catch { logger.warning("image cache: deleting \(id) failed: \(error)") }
        }
        return (ids.count, queued)
    }

    /// Waits until the queue is drained (for tests and shutdown).
    public func waitUntilIdle() async {
        // A worker clears itself when it stops; one started meanwhile is waited for too.
        while let task = worker.withLock({ $0 }) { await task.value }
    }

    // MARK: the worker

    private func startWorker() {
        worker.withLock { current in
            guard current == nil else { return }
            current = Task { [self] in await drain() }
        }
    }

    private func drain() async {
        while true {
            // Decide to stop under both locks' order (worker, then state), so an enqueue either sees the worker
            // still set or starts a new one.
            let next: String? = worker.withLock { current in
                let next = state.withLock { $0.queued.first }
                if next == nil { current = nil }
                return next
            }
            guard let id = next else { return }
            await fill(id)
        }
    }

    /// Copies one queued image into the cache, then takes it off the queue.
    private func fill(_ id: String) async {
        do {
            let committed = try await copy(id)
            let (keep, entry) = state.withLock { s -> (Bool, Entry?) in
                guard let i = s.queued.firstIndex(of: id) else { return (false, nil) }
                s.queued.remove(at: i)
                if let committed { s.entries[id] = committed }
                save(s)
                return (true, committed)
            }
            if committed != nil, !keep {
                // Unqueued (cleared, or the image deleted) while it was copied: keep nothing.
                try? await store.delete(key: id)
            } else if let entry {
                logger.info("image cache: cached image \(id) (\(entry.size) bytes)")
            }
        } catch {
            logger.warning("image cache: caching image \(id) failed: \(error)")
            state.withLock { s in
                s.queued.removeAll { $0 == id }
                save(s)
            }
        }
    }

    /// The copy of one image, checked against its record; nil when the image has gone or has no data to cache.
    private func copy(_ id: String) async throws -> Entry? {
        guard let image = try await metadata.image(id: id), image.status == .active, let size = image.size else {
            logger.info("image cache: image \(id) is gone or not active; not cached")
            return nil
        }
        guard let chunks = try await source.read(key: id, range: nil) else {
            throw GlimpseError.notFound("Image data for \(id) could not be found.")
        }
        let writer = try await store.makeWriter(key: id)
        do {
            let result = try await pipeline.copy(
                chunks, into: writer, limit: size,
                limitError: .internalError("The data of image \(id) is larger than its recorded size."))
            guard result.size == size else {
                throw GlimpseError.internalError("The data of image \(id) has \(result.size) bytes, not \(size).")
            }
            if let md5 = image.checksum, md5 != result.md5 {
                throw GlimpseError.internalError("The data of image \(id) does not match its checksum.")
            }
            if image.osHashAlgo == "sha512", let sha = image.osHashValue, sha != result.sha512 {
                throw GlimpseError.internalError("The data of image \(id) does not match its os_hash_value.")
            }
            try await writer.commit()
        } catch {
            await writer.cancel()
            throw error
        }
        let now = Self.now()
        return Entry(imageID: id, hits: 0, lastAccessed: now, lastModified: now, size: size)
    }

    // MARK: the index file

    /// Writes the index (atomically: a reader never sees half of it). Called with the state locked, so saves are
    /// in the order of the changes.
    private func save(_ s: State) {
        guard let indexPath else { return }
        do {
            let data = try JSONEncoder().encode(s)
            try data.write(to: URL(fileURLWithPath: indexPath), options: .atomic)
        } catch {
            logger.warning("image cache: saving the index \(indexPath) failed: \(error)")
        }
    }
}
