// The QEMU command line follows the image's hardware properties: the disk's bus and SCSI controller, the agent.

import GlimpseCore
import Testing

@testable import GlimpseCompute

@Suite struct QemuCommandLineTests {
    static func command(_ properties: [String: String]) -> QemuCommandLine {
        QemuCommandLine(
            qemu: "qemu-system-x86_64", accelerator: "tcg",
            server: DriverServer(id: "s1", vcpus: 2, ramMB: 256, imageProperties: properties), disk: "/d/s1,x.qcow2",
            qmpSocket: "/r/s1.qmp", agentSocket: "/r/s1.qga", consoleLog: "/c/s1.log")
    }

    /// The value after each `-device`.
    static func devices(_ args: [String]) -> [String] {
        zip(args, args.dropFirst()).filter { $0.0 == "-device" }.map(\.1)
    }

    @Test func eachSCSIModelGetsItsController() throws {
        let cases: [(String?, String)] = [
            (nil, "virtio-scsi-pci,id=scsi0"), ("virtio-scsi", "virtio-scsi-pci,id=scsi0"),
            ("lsilogic", "lsi53c895a,id=scsi0"), ("LSISAS1068", "mptsas1068,id=scsi0"), ("vmpvscsi", "pvscsi,id=scsi0"),
        ]
        for (model, controller) in cases {
            var properties = ["hw_disk_bus": "scsi"]
            properties["hw_scsi_model"] = model
            let devices = Self.devices(try Self.command(properties).arguments())
            #expect(devices.first == controller, "\(String(describing: model))")
            #expect(devices.contains("scsi-hd,drive=root,bus=scsi0.0,bootindex=0"))
        }
    }

    @Test func aSCSIModelQemuCannotEmulateIsRefused() {
        for model in ["buslogic", "ibmvscsi", "virtio-scsi,id=x", String(repeating: "a", count: 5000)] {
            let error = #expect(throws: HypervisorError.self) {
                _ = try Self.command(["hw_disk_bus": "scsi", "hw_scsi_model": model]).arguments()
            }
            #expect(error?.kind == .unsupported)
            #expect((error?.message.count ?? 0) < 200, "the reason quotes at most the start of the value")
        }
        // Without a SCSI bus the model is not used, so it cannot fail the boot.
        #expect((try? Self.command(["hw_disk_bus": "virtio", "hw_scsi_model": "buslogic"]).arguments()) != nil)
    }

    @Test func busesMachinesAndTheAgentChannel() throws {
        let sata = try Self.command(["hw_disk_bus": "sata"]).arguments()
        #expect(Self.devices(sata) == ["ahci,id=ahci0", "ide-hd,drive=root,bus=ahci0.0,bootindex=0"])
        #expect(sata.contains("q35"))
        let ide = try Self.command(["hw_disk_bus": "ide"]).arguments()
        #expect(Self.devices(ide) == ["ide-hd,drive=root,bus=ide.0,bootindex=0"])
        let plain = try Self.command([:]).arguments()
        #expect(Self.devices(plain) == ["virtio-blk-pci,drive=root,bootindex=0"])
        #expect(plain.contains("file=/d/s1,,x.qcow2,format=qcow2,if=none,id=root,cache=writeback,discard=unmap"))
        let agent = try Self.command(["hw_qemu_guest_agent": "yes"]).arguments()
        #expect(Self.devices(agent).contains("virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0"))
        #expect(!Self.devices(plain).contains { $0.hasPrefix("virtserialport") })
    }
}
