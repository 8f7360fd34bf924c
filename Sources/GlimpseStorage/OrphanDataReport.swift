// What one garbage-collection sweep of image data found and removed, for logs and `glimpse admin gc`.

/// The outcome of an `OrphanDataSweep`: what went (or would go, on a dry run) and what was kept, and why.
public struct OrphanDataReport: Sendable {
    public var dryRun: Bool
    /// Objects that belong to no image with data (removed, or to be removed on a dry run).
    public var removedObjects: [StoredObject] = []
    /// Writes no live node is doing (aborted, or to be aborted on a dry run).
    public var removedWrites: [IncompleteWrite] = []
    /// Orphans younger than the grace period, left for a later sweep.
    public var keptYoung = 0
    /// Writes of live nodes, and objects of images a live node works on.
    public var keptLive = 0
    /// Removals the backend refused (they are retried by the next sweep).
    public var failures: [String] = []

    public init(dryRun: Bool) { self.dryRun = dryRun }

    public var removedBytes: Int64 { removedObjects.reduce(0) { $0 + $1.size } }

    public var isEmpty: Bool { removedObjects.isEmpty && removedWrites.isEmpty && failures.isEmpty }

    /// One line per object or write, as `glimpse admin gc` prints them.
    public var lines: [String] {
        let verb = dryRun ? "would remove" : "removed"
        var lines = removedObjects.map { "\(verb) object \($0.key) (\($0.size) bytes, last modified \($0.modified.iso8601))" }
        lines += removedWrites.map { write in
            let bytes = write.bytes.map { ", \($0) bytes" } ?? ""
            return "\(verb) unfinished upload of \(write.key) (writer \(write.writer ?? "unannounced"), started \(write.started?.iso8601 ?? "unknown")\(bytes))"
        }
        return lines + failures.map { "failed: \($0)" }
    }

    public var summary: String {
        "\(dryRun ? "would remove" : "removed") \(removedObjects.count) object(s) (\(removedBytes) bytes) and "
            + "\(removedWrites.count) unfinished upload(s); kept \(keptYoung) younger than the grace period and "
            + "\(keptLive) of live nodes' work; \(failures.count) failure(s)"
    }
}
