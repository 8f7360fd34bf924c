// One unfinished write as a backend lists it: a temporary file or an S3 multipart upload.
import GlimpseCore

/// A write that has neither committed nor been cancelled (yet): an incoming file, or a multipart upload.
public struct IncompleteWrite: Sendable, Equatable {
    /// The object the write would create.
    public var key: String
    /// The node that announced the write; nil when none did (a crash before its marker, or a file from before
    /// writer directories).
    public var writer: String?
    /// When the write started; nil when the backend cannot tell (such a write is never collected).
    public var started: Timestamp?
    /// Bytes written so far, when the backend knows without further requests.
    public var bytes: Int64?
    /// What the backend needs to remove it (a file name, an upload id); opaque to callers.
    public var handle: String

    public init(key: String, writer: String?, started: Timestamp?, bytes: Int64?, handle: String) {
        self.key = key
        self.writer = writer
        self.started = started
        self.bytes = bytes
        self.handle = handle
    }
}
