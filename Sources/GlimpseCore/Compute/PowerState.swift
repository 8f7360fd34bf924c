// Nova's power_state: what the hypervisor says about the guest.

/// Nova's power_state numbers (nova/compute/power_state.py), shown as `OS-EXT-STS:power_state`.
public enum PowerState: Int, Sendable, Codable, CaseIterable {
    case noState = 0
    case running = 1
    case paused = 3
    case shutdown = 4
    case crashed = 6
    case suspended = 7
}
