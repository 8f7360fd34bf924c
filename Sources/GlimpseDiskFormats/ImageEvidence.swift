// What the stream left behind for the format probes once it has ended, and what each probe concludes.

struct ImageEvidence: Sendable {
    /// The first bytes of the image (at least 256 KiB of it, more for a VMDK descriptor).
    let prefix: [UInt8]
    /// Every byte count seen.
    let total: Int64
    /// The last (up to) 1536 bytes.
    let tail: [UInt8]
    let vhdx: (virtualSize: Int64?, complete: Bool)

    /// Whether the first `count` bytes of the file were seen (oslo's "header region complete").
    func has(_ count: Int) -> Bool { total >= Int64(count) }
}

/// One format's opinion of the image: matched, with its size and safety.
struct FormatFinding: Sendable, Equatable {
    var format: DiskFormat
    /// nil when it cannot be known; 0 is what oslo reports when it does not know either.
    var virtualSize: Int64?
    var violations: [String] = []
    /// oslo's `complete`: every region the format needs was seen. A match that is not complete cannot be
    /// safety-checked, and Glance refuses it.
    var complete = true
    var encrypted = false
}
