/// The SCSI controller an image asks for with `hw_scsi_model` (Nova's values) when its disk bus is SCSI, and the
/// QEMU device that emulates it. Models QEMU on x86 has no device for (buslogic, ibmvscsi) are refused, so the build
/// fails with a reason instead of booting a guest on a controller it did not ask for.
public enum SCSIModel: String, Sendable, CaseIterable {
    case virtioSCSI = "virtio-scsi"
    case lsilogic
    case lsisas1068
    case vmpvscsi

    /// The model of `hw_scsi_model`; virtio-scsi when absent (Nova's default on x86 with a SCSI bus).
    public init(imageProperties: [String: String]) throws {
        guard let value = imageProperties["hw_scsi_model"]?.lowercased(), !value.isEmpty else {
            self = .virtioSCSI
            return
        }
        guard let model = SCSIModel(rawValue: value) else {
            let known = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw HypervisorError(
                .unsupported, "hw_scsi_model=\(value.prefix(40)) is not supported by the QEMU driver (supported: \(known))")
        }
        self = model
    }

    /// The controller's `-device` name.
    var qemuDevice: String {
        switch self {
        case .virtioSCSI: "virtio-scsi-pci"
        case .lsilogic: "lsi53c895a"
        case .lsisas1068: "mptsas1068"
        case .vmpvscsi: "pvscsi"
        }
    }
}
