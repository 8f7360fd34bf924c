// GlimpseStorage owns persistence: the `MetadataStore` (image records, members) and `BlobStore` (image bytes)
// seams, and their backends. Every backend must pass the shared contract tests in GlimpseStorageTests.

import GlimpseCore

/// Durable image metadata. Every mutation is one transaction; `updateImage` is the compare-and-set primitive:
/// its body sees the current record and may throw to abort, so status changes can never race.
public protocol MetadataStore: Sendable {
    /// Inserts a new image; 409 if the id exists.
    func insertImage(_ image: Image) async throws
    func image(id: String) async throws -> Image?
    /// Reads, modifies and writes one image atomically. Throws 404 if it does not exist.
    func updateImage(id: String, _ body: @Sendable (inout Image) throws -> Void) async throws -> Image
    /// Removes an image with its properties, tags and members. Returns false if it did not exist.
    /// `onlyIf` runs inside the transaction and may throw to refuse (e.g. protected images).
    func deleteImage(id: String, onlyIf check: @Sendable (Image) throws -> Void) async throws -> Image?
    /// One page of images visible to `caller`, already filtered, sorted and cut after `marker`.
    func listImages(_ query: ImageListQuery, caller: Caller, after marker: Image?) async throws -> [Image]
    func images(inStatus status: ImageStatus) async throws -> [Image]
    /// Bytes of stored data owned by `owner` (active, deactivated and uploading images), for quotas.
    func storageUsed(byOwner owner: String) async throws -> Int64
    func allImageIDs() async throws -> Set<String>

    func member(imageID: String, memberID: String) async throws -> ImageMember?
    func members(imageID: String) async throws -> [ImageMember]
    /// Adds a member; 409 when it exists, 413 when the image already has `limit` members.
    func insertMember(_ member: ImageMember, limit: Int) async throws
    func updateMember(imageID: String, memberID: String, status: MemberStatus, at: Timestamp) async throws -> ImageMember?
    func deleteMember(imageID: String, memberID: String) async throws -> Bool

    func insertTask(_ task: ImageTask) async throws
    /// Reads, modifies and writes one task atomically; nil if it does not exist.
    func updateTask(id: String, _ body: @Sendable (inout ImageTask) throws -> Void) async throws -> ImageTask?
    func task(id: String) async throws -> ImageTask?
    /// Tasks of one image, oldest first.
    func tasks(imageID: String) async throws -> [ImageTask]
    /// All tasks, newest first, at most `limit`.
    func allTasks(limit: Int) async throws -> [ImageTask]

    /// Appends a location to an image; 404 if the image does not exist. Locations go with their image.
    func addLocation(_ location: ImageLocation, imageID: String) async throws
    /// The image's locations, in the order they were added.
    func locations(imageID: String) async throws -> [ImageLocation]

    // Several nodes on one store: which node is alive, and which node does the unfinished work on an image
    // (an upload, a stage, an import), so that recovery only undoes what a dead node left.
    /// Records (or refreshes) the node's lease.
    func heartbeat(_ lease: NodeLease) async throws
    /// Every node's last heartbeat.
    func nodeLeases() async throws -> [NodeLease]
    /// Records that `node` works on the image now, replacing an earlier claim. Goes with its image.
    func claimWork(imageID: String, node: String) async throws
    /// Ends `node`'s claim on the image; leaves a claim of another node alone.
    func releaseWork(imageID: String, node: String) async throws
    /// Image id → the node that claimed work on it.
    func workClaims() async throws -> [String: String]
    /// Records the bytes `node`'s writers hold or ask for on the project's quota, unless a later `version` of the
    /// same node is recorded already (publishers may overtake each other).
    func publishQuotaHold(project: String, node: String, bytes: Int64, version: Int64) async throws
    /// Bytes the writers of every other node alive since `aliveSince` hold on the project's quota.
    func quotaHeldByOtherNodes(project: String, node: String, aliveSince: Timestamp) async throws -> Int64
    /// Forgets every hold `node` published (at its start: a restarted node holds nothing).
    func clearQuotaHolds(node: String) async throws
}

extension MetadataStore {
    /// Compare-and-set on status: moves `id` from one of `from` to `to`, applying `update` in the same transaction.
    @discardableResult
    public func transition(
        id: String, from: Set<ImageStatus>, to: ImageStatus,
        update: @escaping @Sendable (inout Image) throws -> Void = { _ in }
    ) async throws -> Image {
        try await updateImage(id: id) { image in
            guard from.contains(image.status) else { throw image.status.transitionError(to: to) }
            image.status = to
            try update(&image)
        }
    }
}
