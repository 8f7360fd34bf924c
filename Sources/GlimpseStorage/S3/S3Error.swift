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
        }
    }
}
