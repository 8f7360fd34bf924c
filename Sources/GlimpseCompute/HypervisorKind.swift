/// Which driver a node runs servers with (`glimpse serve --hypervisor`).
public enum HypervisorKind: String, Sendable, CaseIterable {
    /// `QemuDriver`: every server a QEMU process.
    case qemu
    /// `OverlayDriver`: real disks, nothing boots them.
    case overlay

    /// QEMU when `qemu-system-x86_64` is installed, else the overlay driver.
    public static var hostDefault: HypervisorKind {
        Subprocess.which("qemu-system-x86_64") != nil ? .qemu : .overlay
    }
}
