import Foundation
import GlimpseCompute
import GlimpseCore
import Testing

// What needs no boot: the node's capacity refusing a create, the root device name following hw_disk_bus, and
// console output on a driver that keeps no console. (Booting tests are in QemuGuestTests.)

@Suite struct ConsoleAndCapacityTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64"), "qemu-system-x86_64 is not installed"))
    func aNodeWithoutCapacityRefusesCreateWith409() async throws {
        try await withGlimpse(hypervisor: .qemu, qemu: QemuOptions(accelerator: .tcg, maxGuests: 0)) { api in
            let image = try await api.image()
            let r = try await api.post(
                "/compute/v2.1/servers",
                json: #"{"server":{"name":"vm","flavorRef":"1","imageRef":"\#(image)","networks":"none"}}"#,
                version: "2.47")
            #expect(r.status == .conflict, "\(r)")
            #expect(r["conflictingRequest"]?["message"]?.string?.contains("No capacity") == true, "\(r)")
            let list = try await api.get("/compute/v2.1/servers", version: "2.47")
            #expect(list["servers"]?.array?.isEmpty == true)
        }
    }

    @Test func rootDeviceNameFollowsTheDiskBus() async throws {
        try await withGlimpse { api in
            for (bus, device) in [("virtio", "/dev/vda"), ("scsi", "/dev/sda"), ("sata", "/dev/sda"), ("ide", "/dev/hda")] {
                let image = try await api.image(properties: ["hw_disk_bus": bus])
                let id = try await api.server(image: image, name: "vm-\(bus)")
                let shown = try await api.show(id, as: .admin)
                #expect(shown["server"]?["OS-EXT-SRV-ATTR:root_device_name"]?.string == device, "\(bus)")
            }
        }
    }

    @Test func consoleOutputOnTheOverlayDriverIsAConflictAndLengthIsChecked() async throws {
        try await withGlimpse { api in
            let image = try await api.image()
            let id = try await api.server(image: image)
            _ = try await api.waitStatus(id, "ACTIVE")
            let r = try await api.action(id, #"{"os-getConsoleOutput":{}}"#)
            #expect(r.status == .conflict, "\(r)")
            #expect(try await api.action(id, #"{"os-getConsoleOutput":{"length":-2}}"#).status == .badRequest)
            #expect(try await api.action(id, #"{"os-getConsoleOutput":{"length":1.5}}"#).status == .badRequest)
            #expect(try await api.action(id, #"{"os-getConsoleOutput":{"lines":3}}"#).status == .badRequest)
            #expect(try await api.action("no-such-server", #"{"os-getConsoleOutput":{}}"#).status == .notFound)
        }
    }
}
