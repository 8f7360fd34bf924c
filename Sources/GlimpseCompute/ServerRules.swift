import GlimpseCore
import GlimpseStorage

/// The rules of the server state machine, in one place.
enum ServerRules {
    /// The API `status` for a vm_state/task_state pair (nova/api/openstack/common.py `_STATE_MAP`).
    static func status(vmState: VMState, taskState: TaskState?) -> String {
        switch vmState {
        case .building: return "BUILD"
        case .active:
            switch taskState {
            case .rebooting: return "REBOOT"
            case .rebootingHard: return "HARD_REBOOT"
            default: return "ACTIVE"
            }
        case .stopped: return "SHUTOFF"
        case .paused: return "PAUSED"
        case .suspended: return "SUSPENDED"
        case .error: return "ERROR"
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
        _ s: ServerRecord, action: String, vmStates: Set<VMState>?, taskStates: Set<TaskState?> = [nil],
        mustHaveLaunched: Bool = true
    ) throws {
        if let vmStates, !vmStates.contains(s.vmState) {
            throw GlimpseError.conflict("Cannot '\(action)' instance \(s.id) while it is in vm_state \(s.vmState.rawValue)")
        }
        if !taskStates.contains(s.taskState) {
            throw GlimpseError.conflict(
                "Cannot '\(action)' instance \(s.id) while it is in task_state \(s.taskState?.rawValue ?? "None")")
        }
        if mustHaveLaunched, s.launchedAt == nil {
            throw GlimpseError.conflict("Instance \(s.id) is in an invalid state for '\(action)'")
        }
    }

    /// compute/api.py `stop`: from active or error, no task.
    static func checkStop(_ s: ServerRecord) throws {
        try check(s, action: "stop", vmStates: [.active, .error], mustHaveLaunched: false)
    }

    /// compute/api.py `start`: from stopped, no task.
    static func checkStart(_ s: ServerRecord) throws {
        try check(s, action: "start", vmStates: [.stopped])
    }

    /// compute/api.py `reboot`: soft from active only; hard also from stopped, paused, suspended and error.
    /// A reboot may replace a running reboot (hard over soft), as Nova allows.
    static func checkReboot(_ s: ServerRecord, hard: Bool) throws {
        let soft: Set<VMState> = [.active]
        let hardStates: Set<VMState> = [.active, .stopped, .paused, .suspended, .error]
        let tasks: Set<TaskState?> = hard ? [nil, .rebooting, .rebootingHard] : [nil, .rebooting]
        try check(s, action: "reboot", vmStates: hard ? hardStates : soft, taskStates: tasks, mustHaveLaunched: false)
    }

    /// compute/api.py `snapshot`: active, stopped, paused or suspended; no task; launched.
    static func checkSnapshot(_ s: ServerRecord) throws {
        try check(
            s, action: "createImage",
            vmStates: [.active, .stopped, .paused, .suspended])
    }

    /// What a restart of Glimpse makes of the task it interrupted (compute manager `_init_instance`): a snapshot
    /// step is dropped (its image is discarded elsewhere), a power action completes as asked, an interrupted build
    /// ends in ERROR with a fault; a deletion stays `deleting` for the caller to finish.
    static func settleAfterRestart(_ s: inout ServerRecord, now: Int64) {
        if s.snapshotImageID != nil || s.taskState?.isSnapshotStep == true {
            s.snapshotImageID = nil
            if s.taskState?.isSnapshotStep == true { s.taskState = nil }
        }
        switch s.taskState {
        case .poweringOff?:
            s.vmState = .stopped
            s.powerState = .shutdown
            s.taskState = nil
        case .poweringOn?, .rebooting?, .rebootingHard?:
            s.vmState = .active
            s.powerState = .running
            s.taskState = nil
        case .scheduling?, .spawning?:
            s.vmState = .error
            s.taskState = nil
            s.powerState = .noState
            s.faultMessage = "Build of instance \(s.id) was interrupted by a restart of Glimpse."
            s.faultCode = 500
            s.faultAt = now
        default: break
        }
        if s.vmState == .building {
            s.vmState = .error
            s.taskState = nil
        }
    }

    /// Nova's truthy strings for boolean image properties (oslo `strutils.bool_from_string`).
    static func isTrue(_ v: String?) -> Bool {
        guard let v = v?.lowercased() else { return false }
        return ["1", "t", "true", "on", "y", "yes"].contains(v)
    }
}
