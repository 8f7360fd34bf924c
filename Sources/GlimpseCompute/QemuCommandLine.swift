import Foundation

/// The `qemu-system-x86_64` command line of one server: CPUs and memory from the flavor, the root disk on the bus
/// the image asks for, the guest agent's channel when the image asks for one, the serial console into a file and
/// QMP on a Unix socket; no network, no display, no default devices.
struct QemuCommandLine {
    var qemu: String
    var accelerator: String
    var server: DriverServer
    var disk: String
    var qmpSocket: String
    var agentSocket: String
    var consoleLog: String

    /// The drive id QMP commands name (block jobs start from it).
    static let rootDrive = "root"

    /// Whether the image asked for the QEMU guest agent (`hw_qemu_guest_agent=yes`).
    static func wantsAgent(_ server: DriverServer) -> Bool {
        ServerRules.isTrue(server.imageProperties["hw_qemu_guest_agent"])
    }

    /// QEMU option values separate keys with commas; a comma inside a value is written twice.
    static func escape(_ value: String) -> String { value.replacingOccurrences(of: ",", with: ",,") }

    /// The command; throws when the image asks for hardware the driver cannot emulate.
    func arguments() throws -> [String] {
        let bus = DiskBus(imageProperties: server.imageProperties)
        let scsiModel = bus == .scsi ? try SCSIModel(imageProperties: server.imageProperties) : .virtioSCSI
        var args = [
            qemu, "-name", "guest=\(server.id)", "-machine", bus.machine, "-accel", accelerator,
            "-smp", String(max(1, server.vcpus)), "-m", String(max(16, server.ramMB)),
            "-nodefaults", "-no-user-config", "-nographic", "-monitor", "none", "-nic", "none",
            "-drive", "file=\(Self.escape(disk)),format=qcow2,if=none,id=\(Self.rootDrive),cache=writeback,discard=unmap",
        ]
        args += bus.deviceArguments(driveID: Self.rootDrive, scsiModel: scsiModel)
        args += [
            "-chardev", "file,id=console0,path=\(Self.escape(consoleLog)),append=on", "-serial", "chardev:console0",
            "-chardev", "socket,id=qmp0,path=\(Self.escape(qmpSocket)),server=on,wait=off", "-mon", "chardev=qmp0,mode=control",
        ]
        if Self.wantsAgent(server) {
            args += [
                "-device", "virtio-serial-pci,id=vser0",
                "-chardev", "socket,id=qga0,path=\(Self.escape(agentSocket)),server=on,wait=off",
                "-device", "virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0",
            ]
        }
        return args
    }
}
