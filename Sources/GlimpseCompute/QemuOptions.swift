/// How the QEMU driver runs guests (`glimpse serve --accel`, `--max-guests`, `--shutdown-timeout`).
public struct QemuOptions: Sendable {
    public var accelerator: QemuAccelerator
    /// The most servers this node holds at once; nil: as many as fit in the host's memory by their flavors' RAM.
    public var maxGuests: Int?
    /// How long a stop waits for the guest to power off after the ACPI power button before QEMU is ended.
    public var shutdownTimeout: Duration

    public init(accelerator: QemuAccelerator = .auto, maxGuests: Int? = nil, shutdownTimeout: Duration = .seconds(60)) {
        self.accelerator = accelerator
        self.maxGuests = maxGuests
        self.shutdownTimeout = shutdownTimeout
    }
}
