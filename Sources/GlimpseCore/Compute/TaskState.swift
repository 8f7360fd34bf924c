// Nova's task_state: the action a server is in the middle of.

/// Nova's task_states (nova/compute/task_states.py) that Glimpse uses; a server with no task has none (nil). The
/// raw values are Nova's spellings (`OS-EXT-STS:task_state`), hyphens and underscores as Nova has them.
public enum TaskState: String, Sendable, Codable, CaseIterable {
    case scheduling
    case spawning
    case poweringOff = "powering-off"
    case poweringOn = "powering-on"
    case rebooting
    case rebootingHard = "rebooting_hard"
    case imageSnapshotPending = "image_snapshot_pending"
    case imageSnapshot = "image_snapshot"
    case imagePendingUpload = "image_pending_upload"
    case imageUploading = "image_uploading"
    case deleting

    /// The steps of a snapshot (compute manager `snapshot_instance`), in order.
    public static let snapshotSteps: [TaskState] = [.imageSnapshotPending, .imageSnapshot, .imagePendingUpload, .imageUploading]

    public var isSnapshotStep: Bool { Self.snapshotSteps.contains(self) }
}
