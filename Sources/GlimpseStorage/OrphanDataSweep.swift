// Garbage collection of image data: objects no image owns and writes no live node is doing, once they are older
// than a grace period. One type used by start-up recovery, the periodic sweep and `glimpse admin gc`.
import GlimpseCore

/// Finds and removes image data that nothing will ever use: committed objects belonging to no image with data (a
/// crash between the object store and the database), and unfinished writes (S3 multipart uploads, incoming files)
/// whose writer is not a live node or that no node announced.
///
/// Liveness comes from the node leases and the work claims; age from the backend's own timestamps. Nothing younger
/// than the grace period goes, whatever its owner: the grace covers clock skew, a node that is announcing an upload
/// right now, and an image record written just after its data.
public struct OrphanDataSweep: Sendable {
    public let metadata: any MetadataStore
    public let blobs: any BlobStore
    /// How long a heartbeat keeps a node alive.
    public let lease: Duration
    public let grace: Duration

    public init(metadata: any MetadataStore, blobs: any BlobStore, lease: Duration, grace: Duration) {
        self.metadata = metadata
        self.blobs = blobs
        self.lease = lease
        self.grace = grace
    }

    /// Sweeps once. `node` is the node sweeping (alive by definition; its own writes are its business), nil for
    /// an operator's run outside any node. A dry run removes nothing and reports what would go.
    public func run(node: String?, dryRun: Bool = false, now: Timestamp) async throws -> OrphanDataReport {
        var report = OrphanDataReport(dryRun: dryRun)
        let cutoff = Timestamp(microseconds: now.microseconds - Self.microseconds(grace))
        let leaseMicros = Self.microseconds(lease)
        var live = Set(try await metadata.nodeLeases().filter { now.microseconds - $0.heartbeatAt.microseconds <= leaseMicros }.map(\.node))
        if let node { live.insert(node) }

        for write in try await blobs.incompleteWrites() {
            if let writer = write.writer, live.contains(writer) {
                report.keptLive += 1
                continue
            }
            // A write whose start the backend cannot tell is left alone: it may be one starting right now.
            guard let started = write.started, started < cutoff else {
                report.keptYoung += 1
                continue
            }
            do {
                if !dryRun { try await blobs.removeIncompleteWrite(write) }
                report.removedWrites.append(write)
            } catch {
                report.failures.append("unfinished upload of \(write.key) (writer \(write.writer ?? "unannounced")): \(error)")
            }
        }

        // Objects are listed before the image records and claims are read: an object committed by an upload in
        // flight belongs to an image that is `saving` (or settled) by the time its record is read here.
        let objects = try await blobs.storedObjects()
        let claims = try await metadata.workClaims()
        for object in objects {
            let staging = object.key.hasSuffix(".staging")
            let id = staging ? String(object.key.dropLast(8)) : object.key
            if let owner = claims[id], live.contains(owner) {
                report.keptLive += 1
                continue
            }
            if let image = try await metadata.image(id: id) {
                let owned = staging
                    ? (image.status == .uploading || image.status == .importing)
                    : (image.status.hasData || image.status == .saving || image.status == .importing)
                if owned { continue }
            }
            guard object.modified < cutoff else {
                report.keptYoung += 1
                continue
            }
            do {
                if !dryRun { try await blobs.delete(key: object.key) }
                report.removedObjects.append(object)
            } catch {
                report.failures.append("object \(object.key): \(error)")
            }
        }
        return report
    }

    /// A duration in whole microseconds, saturating: an absurd grace means "keep everything", never a crash.
    static func microseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        if overflow { return seconds < 0 ? Int64.min / 2 : Int64.max / 2 }
        return max(Int64.min / 2, min(Int64.max / 2, whole)) + attoseconds / 1_000_000_000_000
    }
}
