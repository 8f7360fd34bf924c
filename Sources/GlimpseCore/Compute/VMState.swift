// Nova's vm_state: where a server stands between actions.

/// Nova's vm_states (nova/compute/vm_states.py) that Glimpse uses. The raw values are Nova's spellings, which the
/// API shows as `OS-EXT-STS:vm_state` and the stores keep.
public enum VMState: String, Sendable, Codable, CaseIterable {
    case building
    case active
    case stopped
    case paused
    case suspended
    case error
}
