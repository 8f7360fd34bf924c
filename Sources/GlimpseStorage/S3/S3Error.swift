// Failures of S3 requests, with the service's error code when it sent one.

public enum S3Error: Error, CustomStringConvertible, Equatable {
    /// The `s3://` URL or configuration is wrong.
    case invalidLocation(String)
    /// No access key in the environment or the credentials file.
    case missingCredentials(String)
    /// The service answered with an error status (and, usually, an XML error code).
    case service(status: Int, code: String, message: String, operation: String)
    /// The service's answer could not be understood.
    case malformedResponse(String)
    /// A key the store cannot hold (image keys are plain names).
    case invalidKey(String)
    /// The object changed while it was being read.
    case objectChanged(String)
    /// The write's upload was removed (garbage collection judged its writer dead) before it committed.
    case writeRemoved(String)
    /// The write needs more parts than S3 allows in one upload (10,000); the part size sets the largest object.
    case tooManyParts(key: String, largestObject: Int64)

    public var description: String {
        switch self {
        case .invalidLocation(let why): return "invalid S3 location: \(why)"
        case .missingCredentials(let why): return "no S3 credentials: \(why)"
        case .service(let status, let code, let message, let operation):
            return "S3 \(operation) failed: \(status) \(code)\(message.isEmpty ? "" : ": \(message)")"
        case .malformedResponse(let why): return "unexpected S3 response: \(why)"
        case .invalidKey(let key): return "invalid object key '\(key)'"
        case .objectChanged(let key): return "object '\(key)' changed while it was read"
        case .writeRemoved(let key): return "the upload of '\(key)' was removed before it committed"
        case .tooManyParts(let key, let largest):
            return "'\(key)' is larger than the S3 store takes (\(largest) bytes: 10,000 parts of its part size; raise part-size= in the s3:// URL)"
        }
    }
}
