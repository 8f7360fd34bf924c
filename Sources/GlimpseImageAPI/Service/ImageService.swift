// GlimpseImageAPI owns the Glance-compatible Image API v2: the image service (policy checks, status transitions,
// the upload pipeline over the stores) and the HTTP controllers that translate requests to it and back.

import Foundation
import GlimpseCore
import Synchronization
import GlimpseStorage
import Logging
import NIOCore

/// Limits an operator sets for image data.
public struct ImageLimits: Sendable {
    /// Glance's `image_size_cap` (default 1 TiB).
    public var imageSizeCap: Int64
    /// Bytes of image data one project may store; nil is unlimited (Glance's `user_storage_quota`).
    public var projectQuota: Int64?
    /// Glance's `[image_format] require_image_format_match` (default true): the data must be the declared
    /// disk_format. The safety checks apply whatever this says.
    public var requireImageFormatMatch: Bool

    public init(imageSizeCap: Int64 = 1 << 40, projectQuota: Int64? = nil, requireImageFormatMatch: Bool = true) {
        self.imageSizeCap = imageSizeCap
        self.projectQuota = projectQuota
        self.requireImageFormatMatch = requireImageFormatMatch
    }
}

/// The image domain service: every image operation, with Glance's visibility, policy and status rules,
/// over a `MetadataStore` and a `BlobStore`.
public final class ImageService: Sendable {
    public let metadata: any MetadataStore
    public let blobs: any BlobStore
    public let limits: ImageLimits
    public let importOptions: ImportOptions
    /// The node-local image cache downloads are served from when it holds the image (`/v2/cache`).
    public let cache: ImageCache?
    /// This node among the nodes sharing the metadata store (`.single` on the embedded store).
    public let node: NodeMembership
    /// How old unowned image data must be before garbage collection removes it (`--gc-grace`).
    public let orphanDataGrace: Duration
    /// The address heartbeats announce: `node.address` until the listener knows its port (`advertise`).
    let advertisedAddress: Mutex<String>
    let logger: Logger
    let pipeline: UploadPipeline
    /// In-flight writes' holds on their projects' quotas, shared by every write path.
    let quotaLedger = QuotaLedger()
    /// Imports running in the background, so shutdown and tests can wait for them.
    let runningImports = Mutex<[Task<Void, Never>]>([])

    public init(
        metadata: any MetadataStore, blobs: any BlobStore, limits: ImageLimits = .init(),
        importOptions: ImportOptions = .init(), cache: ImageCache? = nil, node: NodeMembership = .single,
        orphanDataGrace: Duration = .seconds(3600), logger: Logger
    ) {
        self.orphanDataGrace = orphanDataGrace
        self.cache = cache
        self.node = node
        self.advertisedAddress = Mutex(node.address)
        self.metadata = metadata
        self.blobs = blobs
        self.limits = limits
        self.importOptions = importOptions
        self.logger = logger
        self.pipeline = UploadPipeline()
    }

    func trackImport(_ task: Task<Void, Never>) {
        runningImports.withLock { tasks in
            tasks.removeAll { $0.isCancelled }
            tasks.append(task)
        }
    }

    /// Waits until every background import started so far has finished.
    public func waitForImports() async {
        for task in runningImports.withLock({ $0 }) { await task.value }
    }

    static func now() -> Timestamp {
        Timestamp(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
    }

    // MARK: reading

    /// The image if `caller` may see it; 404 otherwise (Glance never reveals images a caller cannot see).
    public func visibleImage(_ id: String, caller: Caller) async throws -> Image {
        guard ImageRules.isUUID(id), let image = try await metadata.image(id: id.lowercased()) else {
            throw GlimpseError.noImage(id)
        }
        var membership: MemberStatus?
        if image.visibility == .shared, !caller.isAdmin, !caller.actsFor(image.owner), let p = caller.projectID {
            membership = try await metadata.member(imageID: image.id, memberID: p)?.status
        }
        guard ImagePolicy.isVisible(image, to: caller, membership: membership),
            ImagePolicy.allows(.getImage, caller: caller, image: image, memberID: membership != nil ? caller.projectID : nil)
        else { throw GlimpseError.noImage(id) }
        return image
    }

    public func list(_ query: ImageListQuery, caller: Caller) async throws -> [Image] {
        try ImagePolicy.enforce(.getImages, caller: caller, image: nil)
        var marker: Image?
        if let m = query.marker {
            do {
                marker = try await visibleImage(m, caller: caller)
            } catch let e as GlimpseError where e.kind == .notFound {
                throw GlimpseError.badRequest(e.message)
            }
        }
        return try await metadata.listImages(query, caller: caller, after: marker)
    }

    // MARK: writing metadata

    public func create(_ body: [String: JSONValue], caller: Caller) async throws -> Image {
        let now = Self.now()
        let image = try ImageRules.newImage(from: body, caller: caller, id: UUID().uuidString.lowercased(), now: now)
        try ImagePolicy.enforce(.addImage, caller: caller, image: image)
        try await metadata.insertImage(image)
        logger.info("created image \(image.id)")
        return image
    }

    /// Creates a queued image from typed metadata (the compute service's snapshots), with the rules and policy of
    /// `POST /v2/images`.
    public func create(_ draft: ImageDraft, caller: Caller) async throws -> Image {
        let image = try ImageRules.newImage(from: draft, caller: caller, id: UUID().uuidString.lowercased(), now: Self.now())
        try ImagePolicy.enforce(.addImage, caller: caller, image: image)
        try await metadata.insertImage(image)
        logger.info("created image \(image.id)")
        return image
    }

    /// Changes an image's formats and properties from typed values, with the rules and policy of a PATCH.
    public func update(_ id: String, _ change: ImageAmendment, caller: Caller) async throws -> Image {
        let image = try await ownedImage(id, caller: caller, for: .modifyImage)
        let now = Self.now()
        return try await metadata.updateImage(id: image.id) { current in
            current = try ImageRules.apply(change, to: current, now: now)
        }
    }

    /// An image the caller may change: visible (else 404) and owned (else 403 for `action`).
    func ownedImage(_ id: String, caller: Caller, for action: ImagePolicy.Action) async throws -> Image {
        let image = try await visibleImage(id, caller: caller)
        try ImagePolicy.enforce(action, caller: caller, image: image)
        return image
    }

    public func update(_ id: String, patch: [ImageRules.PatchOperation], caller: Caller) async throws -> Image {
        let image = try await ownedImage(id, caller: caller, for: .modifyImage)
        let now = Self.now()
        return try await metadata.updateImage(id: image.id) { current in
            current = try ImageRules.apply(patch, to: current, caller: caller, now: now)
        }
    }

    public func addTag(_ id: String, tag: String, caller: Caller) async throws {
        guard tag.count <= 255 else { throw GlimpseError.badRequest("Tag is longer than 255 characters.") }
        let image = try await ownedImage(id, caller: caller, for: .modifyImage)
        let now = Self.now()
        _ = try await metadata.updateImage(id: image.id) { current in
            guard !current.tags.contains(tag) else { return }
            guard current.tags.count < Image.maxTags else {
                throw GlimpseError.tooLarge("Maximum number of tags exceeded: maximum \(Image.maxTags).")
            }
            current.tags.append(tag)
            current.updatedAt = now
        }
    }

    public func deleteTag(_ id: String, tag: String, caller: Caller) async throws {
        let image = try await ownedImage(id, caller: caller, for: .modifyImage)
        let now = Self.now()
        _ = try await metadata.updateImage(id: image.id) { current in
            guard let i = current.tags.firstIndex(of: tag) else { throw GlimpseError.notFound("Tag \(tag) not found") }
            current.tags.remove(at: i)
            current.updatedAt = now
        }
    }

    /// Deletes the image and its data. Protected images are refused (403); the data goes for good.
    public func delete(_ id: String, caller: Caller) async throws {
        let image: Image
        do {
            image = try await ownedImage(id, caller: caller, for: .deleteImage)
        } catch let e as GlimpseError where e.kind == .notFound {
            throw GlimpseError.notFound("Failed to find image \(id) to delete")
        }
        guard try await metadata.deleteImage(id: image.id, onlyIf: { current in
            if current.protected {
                throw GlimpseError.forbidden("Image \(current.id) is protected and cannot be deleted.")
            }
        }) != nil else { throw GlimpseError.notFound("Failed to find image \(id) to delete") }
        await cache?.remove(image.id)
        try await blobs.delete(key: image.id)
        try await blobs.delete(key: Self.stagingKey(image.id))
        logger.info("deleted image \(image.id)")
    }

    public func deactivate(_ id: String, caller: Caller) async throws {
        let image = try await ownedImage(id, caller: caller, for: .deactivate)
        let now = Self.now()
        _ = try await metadata.updateImage(id: image.id) { current in
            switch current.status {
            case .deactivated: return
            case .active:
                current.status = .deactivated
                current.updatedAt = now
            default:
                throw GlimpseError.forbidden("Not allowed to deactivate image in status '\(current.status.rawValue)'")
            }
        }
    }

    public func reactivate(_ id: String, caller: Caller) async throws {
        let image = try await ownedImage(id, caller: caller, for: .reactivate)
        let now = Self.now()
        _ = try await metadata.updateImage(id: image.id) { current in
            switch current.status {
            case .active: return
            case .deactivated:
                current.status = .active
                current.updatedAt = now
            default:
                throw GlimpseError.forbidden("Not allowed to reactivate image in status '\(current.status.rawValue)'")
            }
        }
    }

    // MARK: data

    /// Streams `body` into the image: queued → saving → active, or back to queued with nothing kept on any failure.
    public func upload<Body: AsyncSequence & Sendable>(
        _ id: String, body: Body, declaredSize: Int64?, caller: Caller
    ) async throws -> Image where Body.Element == ByteBuffer {
        let image = try await ownedImage(id, caller: caller, for: .uploadImage)
        guard image.status == .queued else { throw image.status.transitionError(to: .saving) }
        guard image.diskFormat != nil, image.containerFormat != nil else {
            throw GlimpseError.badRequest("Properties disk_format, container_format must be set prior to saving data.")
        }
        return try await withWorkClaim(image.id) { try await uploadClaimed(image, body: body, declaredSize: declaredSize) }
    }

    private func uploadClaimed<Body: AsyncSequence & Sendable>(
        _ image: Image, body: Body, declaredSize: Int64?
    ) async throws -> Image where Body.Element == ByteBuffer {
        try await metadata.transition(id: image.id, from: [.queued], to: .saving)
        let data: IngestedData
        do {
            data = try await ingest(
                body, key: image.id, diskFormat: image.diskFormat, containerFormat: image.containerFormat,
                declaredSize: declaredSize,
                charge: .project(image.owner),
                sizeCapMessage: "Image exceeds the storage quota: the image size cap is \(limits.imageSizeCap) bytes.")
        } catch {
            await restoreQueued(image.id, after: error)
            throw Self.uploadError(error)
        }
        defer { data.releaseQuota() }

        let virtualSize = data.virtualSize
        do {
            let active = try await metadata.transition(id: image.id, from: [.saving], to: .active) { current in
                current.size = data.size
                current.checksum = data.md5
                current.osHashAlgo = "sha512"
                current.osHashValue = data.sha512
                current.virtualSize = virtualSize
                current.updatedAt = Self.now()
            }
            logger.info("image \(image.id) active: \(data.size) bytes")
            return active
        } catch {
            // The image was deleted (or changed) while its data streamed in: keep nothing.
            try? await blobs.delete(key: image.id)
            throw GlimpseError.gone("Image \(image.id) could not be found after upload. The image may have been deleted during the upload.")
        }
    }

    func restoreQueued(_ id: String, after error: any Error) async {
        logger.warning("upload of image \(id) failed, back to queued: \(error)")
        do {
            try await metadata.transition(id: id, from: [.saving], to: .queued)
        } catch {
            logger.debug("image \(id) not restored to queued: \(error)")
        }
    }

    static func uploadError(_ error: any Error) -> any Error {
        if error is GlimpseError { return error }
        if error is CancellationError { return GlimpseError.badRequest("The upload was interrupted.") }
        if error is FileError { return GlimpseError(.unavailable, "Error in store: the image data could not be written.") }
        if case S3Error.tooManyParts = error { return GlimpseError.tooLarge("Image data is larger than the store takes: \(error)") }
        if error is S3Error { return GlimpseError(.unavailable, "Error in store: the image data could not be written.") }
        return GlimpseError.badRequest("The upload was interrupted: \(error)")
    }

    /// What a download returns: the image and, when it has data, the requested bytes.
    public struct Download: Sendable {
        public var image: Image
        public var chunks: BlobChunks?
        public var range: Range<Int64>?
        public var totalSize: Int64
    }

    public func download(_ id: String, range: ByteRangeRequest?, caller: Caller) async throws -> Download {
        let image = try await visibleImage(id, caller: caller)
        let memberID: String? = image.visibility == .shared ? caller.projectID : nil
        try ImagePolicy.enforce(.downloadImage, caller: caller, image: image, memberID: memberID)
        if image.status == .deactivated, !caller.isAdmin {
            throw GlimpseError.forbidden("The requested image has been deactivated. Image data download is prohibited.")
        }
        guard image.status.hasData, let size = image.size else {
            return Download(image: image, chunks: nil, range: nil, totalSize: 0)
        }
        var r: Range<Int64>?
        if let range {
            guard let resolved = range.resolve(size: size) else {
                throw GlimpseError(.rangeNotSatisfiable, "Requested range not satisfiable: the image has \(size) bytes.")
            }
            r = resolved
        }
        var chunks = await cache?.read(image, range: r)
        if chunks == nil { chunks = try await blobs.read(key: image.id, range: r) }
        guard let chunks else {
            throw GlimpseError.notFound("Image data for \(image.id) could not be found.")
        }
        return Download(image: image, chunks: chunks, range: r, totalSize: size)
    }

    // MARK: members

    public func addMember(_ id: String, member: String, caller: Caller) async throws -> ImageMember {
        let image = try await ownedImage(id, caller: caller, for: .addMember)
        guard image.visibility == .shared else { throw GlimpseError.forbidden("Only shared images have members.") }
        guard !member.isEmpty, member.count <= 255 else {
            throw GlimpseError.badRequest("Member must be a project id of at most 255 characters.")
        }
        let now = Self.now()
        let m = ImageMember(imageID: image.id, memberID: member, status: .pending, createdAt: now, updatedAt: now)
        try await metadata.insertMember(m, limit: Image.maxMembers)
        return m
    }

    public func members(_ id: String, caller: Caller) async throws -> [ImageMember] {
        let image = try await visibleImage(id, caller: caller)
        guard image.visibility == .shared else { throw GlimpseError.forbidden("Only shared images have members.") }
        if caller.isAdmin || caller.actsFor(image.owner) { return try await metadata.members(imageID: image.id) }
        // A member sees only its own membership.
        guard let p = caller.projectID, let own = try await metadata.member(imageID: image.id, memberID: p) else {
            return []
        }
        try ImagePolicy.enforce(.getMembers, caller: caller, image: image, memberID: p)
        return [own]
    }

    public func member(_ id: String, member: String, caller: Caller) async throws -> ImageMember {
        let image = try await visibleImage(id, caller: caller)
        guard image.visibility == .shared else { throw GlimpseError.forbidden("Only shared images have members.") }
        guard ImagePolicy.allows(.getMember, caller: caller, image: image, memberID: member),
            let m = try await metadata.member(imageID: image.id, memberID: member)
        else { throw GlimpseError.notFound("Member \(member) not found for image \(image.id)") }
        return m
    }

    public func updateMember(_ id: String, member: String, status: MemberStatus, caller: Caller) async throws -> ImageMember {
        let image = try await visibleImage(id, caller: caller)
        guard image.visibility == .shared else { throw GlimpseError.forbidden("Only shared images have members.") }
        // Glance's member lookup (`_image_member_find`) shows a non-admin only the memberships of its own images and
        // its own membership: another member's record does not exist for it (404, not 403).
        guard caller.isAdmin || caller.actsFor(image.owner) || caller.actsFor(member),
            try await metadata.member(imageID: image.id, memberID: member) != nil
        else {
            throw GlimpseError.notFound("Member \(member) not found for image \(image.id)")
        }
        try ImagePolicy.enforce(.modifyMember, caller: caller, image: image, memberID: member)
        guard let m = try await metadata.updateMember(imageID: image.id, memberID: member, status: status, at: Self.now())
        else { throw GlimpseError.notFound("Member \(member) not found for image \(image.id)") }
        return m
    }

    public func deleteMember(_ id: String, member: String, caller: Caller) async throws {
        let image = try await visibleImage(id, caller: caller)
        guard image.visibility == .shared else { throw GlimpseError.forbidden("Only shared images have members.") }
        try ImagePolicy.enforce(.deleteMember, caller: caller, image: image, memberID: member)
        guard try await metadata.deleteMember(imageID: image.id, memberID: member) else {
            throw GlimpseError.notFound("Member \(member) not found for image \(image.id)")
        }
    }

    // MARK: recovery

    /// After a crash: uploads, stages and imports that this node (before its restart) or a dead node left go back
    /// to where they started, half-written data is removed, and data belonging to no image with data is collected.
    /// Work that a live node claims is left alone.
    public func recover() async throws {
        logger.info("upload digests: MD5 from swift-crypto, SHA-512 from \(SystemSHA512.isAvailable ? "the system's OpenSSL" : "swift-crypto (no system libcrypto found)")")
        try await heartbeat()
        try await metadata.clearQuotaHolds(node: node.nodeID)
        let inFlight = try await inFlightImageIDs()
        let scope = try await recoveryScope(atStart: true)
        _ = try await recoverInterruptedWork(inFlight: inFlight, scope: scope)
        let removed = try await blobs.removeIncomplete()
        if removed > 0 { logger.notice("removed \(removed) incomplete upload(s)") }
        for dead in scope.deadNodes {
            let removed = try await blobs.removeIncomplete(ofWriter: dead)
            if removed > 0 { logger.notice("removed \(removed) incomplete upload(s) of dead node \(dead)") }
        }
        try await collectOrphanData()
    }

    /// Removes image data no image owns and writes no live node is doing, older than `orphanDataGrace`
    /// (`OrphanDataSweep`); run at start and periodically by every node.
    @discardableResult
    public func collectOrphanData() async throws -> OrphanDataReport {
        let sweep = OrphanDataSweep(metadata: metadata, blobs: blobs, lease: node.lease, grace: orphanDataGrace)
        let report = try await sweep.run(node: node.nodeID, now: Self.now())
        for line in report.lines { logger.notice("image data garbage collection: \(line)") }
        if !report.isEmpty { logger.notice("image data garbage collection: \(report.summary)") }
        return report
    }
}

/// A parsed `Range: bytes=...` header (one range; Glance serves no multipart ranges).
public enum ByteRangeRequest: Sendable, Equatable {
    case from(Int64, through: Int64?)
    case suffix(Int64)

    public static func parse(_ header: String) -> ByteRangeRequest? {
        let h = header.trimmingCharacters(in: .whitespaces)
        guard h.hasPrefix("bytes="), !h.contains(",") else { return nil }
        let spec = h.dropFirst(6)
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        let a = spec[..<dash], b = spec[spec.index(after: dash)...]
        if a.isEmpty {
            guard let n = Int64(b), n >= 0 else { return nil }
            return .suffix(n)
        }
        guard let start = Int64(a), start >= 0 else { return nil }
        if b.isEmpty { return .from(start, through: nil) }
        guard let end = Int64(b), end >= start else { return nil }
        return .from(start, through: end)
    }

    /// The byte range within an object of `size` bytes, or nil when unsatisfiable.
    public func resolve(size: Int64) -> Range<Int64>? {
        switch self {
        case .from(let start, let end):
            guard start < size else { return nil }
            return start..<(min(end ?? (size - 1), size - 1) + 1)
        case .suffix(let n):
            guard n > 0, size > 0 else { return nil }
            return max(0, size - n)..<size
        }
    }
}
