/// The life cycle of an image, with Glance's allowed transitions (glance/domain `valid_state_targets`).
public enum ImageStatus: String, Sendable, CaseIterable, Codable {
    case queued, saving, active, killed, deleted, uploading, importing
    case pendingDelete = "pending_delete"
    case deactivated

    public var allowedTargets: Set<ImageStatus> {
        switch self {
        case .queued: [.saving, .uploading, .importing, .active, .deleted]
        case .saving: [.active, .killed, .deleted, .queued]
        case .uploading: [.importing, .queued, .deleted]
        case .importing: [.active, .deleted, .queued]
        case .active: [.pendingDelete, .deleted, .deactivated]
        case .killed: [.deleted]
        case .pendingDelete: [.deleted, .active]
        case .deactivated: [.active, .deleted]
        case .deleted: []
        }
    }

    public func canMove(to target: ImageStatus) -> Bool { allowedTargets.contains(target) }

    /// Glance's wording for a refused transition (409).
    public func transitionError(to target: ImageStatus) -> GlimpseError {
        .conflict("Image status transition from \(rawValue) to \(target.rawValue) is not allowed")
    }

    /// Whether image data exists for this status.
    public var hasData: Bool { self == .active || self == .deactivated || self == .pendingDelete }
}

public enum Visibility: String, Sendable, CaseIterable, Codable {
    case `public`, community, shared, `private`
}

public enum MemberStatus: String, Sendable, CaseIterable, Codable {
    case pending, accepted, rejected
}

/// The formats Glance 33 accepts by default (`disk_formats`, `container_formats` options).
public enum ImageFormats {
    public static let disk = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
    public static let container = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
}
