import GlimpseCore
import GlimpseStorage

/// Nova's vm_states (nova/compute/vm_states.py) that Glimpse uses.
public enum VMState {
    public static let building = "building"
    public static let active = "active"
    public static let stopped = "stopped"
    public static let paused = "paused"
    public static let suspended = "suspended"
    public static let error = "error"
}

/// Nova's task_states (nova/compute/task_states.py) that Glimpse uses.
public enum TaskState {
    public static let scheduling = "scheduling"
    public static let spawning = "spawning"
    public static let poweringOff = "powering-off"
    public static let poweringOn = "powering-on"
    public static let rebooting = "rebooting"
    public static let rebootingHard = "rebooting_hard"
    public static let imageSnapshotPending = "image_snapshot_pending"
    public static let imageSnapshot = "image_snapshot"
    public static let imagePendingUpload = "image_pending_upload"
    public static let imageUploading = "image_uploading"
    public static let deleting = "deleting"

    static let snapshotStates: Set<String> = [imageSnapshotPending, imageSnapshot, imagePendingUpload, imageUploading]
}

/// Nova's power_state numbers (nova/compute/power_state.py).
public enum PowerState: Int, Sendable {
    case noState = 0
    case running = 1
    case paused = 3
    case shutdown = 4
    case crashed = 6
    case suspended = 7
}

/// The rules of the server state machine, in one place.
enum ServerRules {
    /// The API `status` for a vm_state/task_state pair (nova/api/openstack/common.py `_STATE_MAP`).
    static func status(vmState: String, taskState: String?) -> String {
        switch vmState {
        case VMState.building: return "BUILD"
        case VMState.active:
            switch taskState {
            case TaskState.rebooting: return "REBOOT"
            case TaskState.rebootingHard: return "HARD_REBOOT"
            default: return "ACTIVE"
            }
        case VMState.stopped: return "SHUTOFF"
        case VMState.paused: return "PAUSED"
        case VMState.suspended: return "SUSPENDED"
        case VMState.error: return "ERROR"
        default: return "UNKNOWN"
        }
    }

    /// Every status a client may filter on, for the 2.38 check.
    static let knownStatuses: Set<String> = [
        "ACTIVE", "BUILD", "DELETED", "ERROR", "HARD_REBOOT", "MIGRATING", "PASSWORD", "PAUSED", "REBOOT", "REBUILD",
        "RESCUE", "RESIZE", "REVERT_RESIZE", "SHELVED", "SHELVED_OFFLOADED", "SHUTOFF", "SOFT_DELETED", "SUSPENDED",
        "UNKNOWN", "VERIFY_RESIZE",
    ]

    /// Nova's `@check_instance_state`: the vm_state must be one of `vmStates` (any when nil), the task_state one of
    /// `taskStates`, and with `mustHaveLaunched` the server must have launched. Otherwise 409 with Nova's message
    /// (nova/api/openstack/common.py `raise_http_conflict_for_instance_invalid_state`).
    static func check(
        _ s: ServerRecord, action: String, vmStates: Set<String>?, taskStates: Set<String?> = [nil],
        mustHaveLaunched: Bool = true
    ) throws {
        if let vmStates, !vmStates.contains(s.vmState) {
            throw GlimpseError.conflict("Cannot '\(action)' instance \(s.id) while it is in vm_state \(s.vmState)")
        }
        if !taskStates.contains(s.taskState) {
            throw GlimpseError.conflict(
                "Cannot '\(action)' instance \(s.id) while it is in task_state \(s.taskState ?? "None")")
        }
        if mustHaveLaunched, s.launchedAt == nil {
            throw GlimpseError.conflict("Instance \(s.id) is in an invalid state for '\(action)'")
        }
    }

    /// compute/api.py `stop`: from active or error, no task.
    static func checkStop(_ s: ServerRecord) throws {
        try check(s, action: "stop", vmStates: [VMState.active, VMState.error], mustHaveLaunched: false)
    }

    /// compute/api.py `start`: from stopped, no task.
    static func checkStart(_ s: ServerRecord) throws {
        try check(s, action: "start", vmStates: [VMState.stopped])
    }

    /// compute/api.py `reboot`: soft from active only; hard also from stopped, paused, suspended and error.
    /// A reboot may replace a running reboot (hard over soft), as Nova allows.
    static func checkReboot(_ s: ServerRecord, hard: Bool) throws {
        let soft: Set<String> = [VMState.active]
        let hardStates: Set<String> = [VMState.active, VMState.stopped, VMState.paused, VMState.suspended, VMState.error]
        let tasks: Set<String?> = hard
            ? [nil, TaskState.rebooting, TaskState.rebootingHard] : [nil, TaskState.rebooting]
        try check(s, action: "reboot", vmStates: hard ? hardStates : soft, taskStates: tasks, mustHaveLaunched: false)
    }

    /// compute/api.py `snapshot`: active, stopped, paused or suspended; no task; launched.
    static func checkSnapshot(_ s: ServerRecord) throws {
        try check(
            s, action: "createImage",
            vmStates: [VMState.active, VMState.stopped, VMState.paused, VMState.suspended])
    }

    /// Nova's truthy strings for boolean image properties (oslo `strutils.bool_from_string`).
    static func isTrue(_ v: String?) -> Bool {
        guard let v = v?.lowercased() else { return false }
        return ["1", "t", "true", "on", "y", "yes"].contains(v)
    }
}
