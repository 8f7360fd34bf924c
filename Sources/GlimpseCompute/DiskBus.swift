/// The bus a server's root disk hangs on, from the image's `hw_disk_bus` (and `hw_scsi_model`), as Nova's libvirt
/// driver reads them: what QEMU attaches the disk to, and the device name the guest sees it as.
public enum DiskBus: String, Sendable, CaseIterable {
    case virtio, scsi, ide, sata

    /// `hw_disk_bus` of the image; virtio when it is absent or names a bus Glimpse does not attach disks to.
    public init(imageProperties: [String: String]) {
        self = DiskBus(rawValue: imageProperties["hw_disk_bus"]?.lowercased() ?? "") ?? .virtio
    }

    /// Nova's `root_device_name`: vd* on virtio, sd* on SCSI and SATA, hd* on IDE.
    public var rootDeviceName: String {
        switch self {
        case .virtio: "/dev/vda"
        case .scsi, .sata: "/dev/sda"
        case .ide: "/dev/hda"
        }
    }

    /// The QEMU machine type the bus needs: AHCI (SATA) is built into q35; the others use the default `pc`.
    var machine: String { self == .sata ? "q35" : "pc" }

    /// `-device` arguments that attach the drive `driveID` to this bus; a SCSI disk hangs on a `scsiModel`
    /// controller.
    func deviceArguments(driveID: String, scsiModel: SCSIModel = .virtioSCSI) -> [String] {
        switch self {
        case .virtio: ["-device", "virtio-blk-pci,drive=\(driveID),bootindex=0"]
        case .scsi:
            [
                "-device", "\(scsiModel.qemuDevice),id=scsi0",
                "-device", "scsi-hd,drive=\(driveID),bus=scsi0.0,bootindex=0",
            ]
        case .ide: ["-device", "ide-hd,drive=\(driveID),bus=ide.0,bootindex=0"]
        case .sata: ["-device", "ahci,id=ahci0", "-device", "ide-hd,drive=\(driveID),bus=ahci0.0,bootindex=0"]
        }
    }
}
