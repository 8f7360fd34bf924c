// The disk formats the inspector recognises: the same set, names and detection order as the format inspector
// Glance 33 runs on uploads (oslo.utils imageutils.format_inspector, ALL_FORMATS).

public enum DiskFormat: String, Sendable, CaseIterable {
    case raw, qcow2, vhd, vhdx, vmdk, vdi, qed, iso, gpt, luks
}
