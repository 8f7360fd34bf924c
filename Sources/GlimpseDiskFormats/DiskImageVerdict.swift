// Glance's answer to an upload or import of inspected data, and the messages it gives (HTTP 415 on upload, the
// failed task's message on import).

public enum DiskImageVerdict: Sendable, Equatable {
    case accepted(virtualSize: Int64?)
    case refused(DiskImageRefusal)
}

public enum DiskImageRefusal: Error, Sendable, Equatable {
    case failedSafetyChecks(reasons: [String])
    case formatMismatch(declared: String, detected: String)
    /// The data could not be judged: several formats at once, or a recognised header cut short.
    case inspectionFailed(reason: String)

    /// Glance's message: "Image failed safety checks" / "Image disk_format qcow2 does not match stream data raw".
    public var message: String {
        switch self {
        case .failedSafetyChecks:
            "Image failed safety checks"
        case .formatMismatch(let declared, let detected):
            "Image disk_format \(declared) does not match stream data \(detected)"
        case .inspectionFailed(let reason):
            reason
        }
    }
}
