// One committed object as a backend lists it, with what garbage collection needs to judge it.
import GlimpseCore

/// A committed object: its key, size and when it was last written (file mtime, S3 LastModified).
public struct StoredObject: Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var modified: Timestamp

    public init(key: String, size: Int64, modified: Timestamp) {
        self.key = key
        self.size = size
        self.modified = modified
    }
}
