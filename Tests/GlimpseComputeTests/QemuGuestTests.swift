import Foundation
@testable import GlimpseCompute
import GlimpseCore
import NIOCore
import Testing

// The QEMU driver end to end, on the test guest (scripts/build-test-guest): boot, console output, guest agent,
// live quiesced snapshot, boot of the snapshot, clean stop and cold snapshot. Boots are slow under TCG (about
// 20 s each on a loaded 2-core machine): the suite boots twice.

private let qemuInstalled = FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64")
    || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/qemu-system-x86_64")

@Suite(.serialized) struct QemuGuestTests {
    static let ready = "GLIMPSE-GUEST-READY"
    static let bootTimeout: Duration = .seconds(180)

    /// Builds the test guest (qcow2) into `dir` with the project's script (`broken`: without a boot loader).
    static func buildGuest(into dir: String, broken: Bool = false) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let out = dir + (broken ? "/broken-guest.qcow2" : "/guest.qcow2")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: root + "/scripts/build-test-guest")
        p.arguments = broken ? [out, "--broken"] : [out]
        var env = ProcessInfo.processInfo.environment
        env["GUEST_SKIP_PREREQUISITES"] = "1"
        p.environment = env
        let log = Pipe()
        p.standardOutput = log
        p.standardError = log
        try p.run()
        let said = log.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw GlimpseError.internalError("build-test-guest failed: \(String(decoding: said, as: UTF8.self).suffix(2000))")
        }
        return out
    }

    /// Uploads the guest as a qcow2 image that asks for the agent and requires quiesce.
    static func uploadGuest(_ api: API, path: String, properties: [String: String] = [:]) async throws -> String {
        let extra = properties.sorted { $0.key < $1.key }.map { #","\#($0.key)":"\#($0.value)""# }.joined()
        let r = try await api.post(
            "/v2/images",
            json: #"{"name":"test-guest","disk_format":"qcow2","container_format":"bare","hw_qemu_guest_agent":"yes","os_require_quiesce":"yes"\#(extra)}"#)
        #expect(r.status == .created, "\(r)")
        let id = try #require(r["id"]?.string)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let put = try await api.send(
            .put, "/v2/images/\(id)/file", headers: [.contentType: "application/octet-stream"],
            body: ByteBuffer(bytes: bytes))
        #expect(put.status == .noContent, "\(put)")
        return id
    }

    /// The server's console output (the whole log, or its last `length` lines).
    static func console(_ api: API, _ id: String, length: String = "null") async throws -> Reply {
        try await api.action(id, #"{"os-getConsoleOutput":{"length":\#(length)}}"#)
    }

    /// Polls until the server is `status` with no task, and its console shows the ready line when `booted`.
    static func waitUp(_ api: API, _ id: String, status: String = "ACTIVE", booted: Bool) async throws -> JSONValue {
        let deadline = ContinuousClock.now + bootTimeout
        var last: JSONValue = .null
        while ContinuousClock.now < deadline {
            last = try await api.show(id)["server"] ?? .null
            let settled = last["status"]?.string == status && last["OS-EXT-STS:task_state"] == .null
            if last["status"]?.string == "ERROR" { break }
            if settled {
                if !booted { return last }
                let out = try await console(api, id)["output"]?.string ?? ""
                if out.contains(ready) { return last }
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        let out = try await console(api, id)["output"]?.string ?? ""
        Issue.record("server \(id) did not come up (\(status)); last: \(last); console tail: \(out.suffix(1500))")
        throw CancellationError()
    }

    /// Polls an image until it is active (nil when it is deleted: the snapshot failed); a loaded machine running
    /// TCG guests gets three minutes.
    static func waitImage(_ api: API, _ id: String) async throws -> JSONValue? {
        let deadline = ContinuousClock.now + bootTimeout
        while ContinuousClock.now < deadline {
            let r = try await api.get("/v2/images/\(id)", as: .admin)
            if r.status == .notFound { break }
            if r["status"]?.string == "active" { return r.json }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("image \(id) did not become active")
        return nil
    }

    /// The guest agent of server `id` (the test talks to its socket directly, as an operator's tool would).
    static func agent(_ api: API, _ id: String) async throws -> GuestAgentClient {
        let runtime = QemuDriver.runtimeDirectory(for: api.dataDirectory + "/compute")
        return try await GuestAgentClient.connect(QemuDriver.agentSocket(runtime: runtime, id), timeout: .seconds(10))
    }

    static func writeFile(_ api: API, _ id: String, path: String, content: String) async throws {
        let agent = try await agent(api, id)
        let handle = try await agent.execute("guest-file-open", ["path": .string(path), "mode": .string("w")])
        let written = try await agent.execute(
            "guest-file-write", ["handle": handle, "buf-b64": .string(Data(content.utf8).base64EncodedString())])
        #expect(written.objectValue?["count"] == .int(Int64(content.utf8.count)), "\(written)")
        _ = try await agent.execute("guest-file-flush", ["handle": handle])
        _ = try await agent.execute("guest-file-close", ["handle": handle])
        await agent.close()
    }

    static func readFile(_ api: API, _ id: String, path: String) async throws -> String {
        let agent = try await agent(api, id)
        let handle = try await agent.execute("guest-file-open", ["path": .string(path), "mode": .string("r")])
        let read = try await agent.execute("guest-file-read", ["handle": handle, "count": .int(4096)])
        _ = try await agent.execute("guest-file-close", ["handle": handle])
        await agent.close()
        let b64 = read.objectValue?["buf-b64"]?.stringValue ?? ""
        return String(decoding: Data(base64Encoded: b64) ?? Data(), as: UTF8.self)
    }

    /// The image's `hw_disk_bus` decides the controller the guest boots from: on SCSI (virtio-scsi), SATA (AHCI) and
    /// IDE the same guest boots through its boot loader, finds its data disk as /dev/sd* and reports the device name
    /// Nova would; a SCSI model QEMU cannot emulate fails the build with the reason.
    @Test(
        .enabled(if: qemuInstalled, "qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)"),
        .timeLimit(.minutes(10)))
    func theGuestBootsFromEachDiskBus() async throws {
        let scratch = testDirectory()
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let guest = try Self.buildGuest(into: scratch)
        try await withGlimpse(hypervisor: .qemu, qemu: QemuOptions(accelerator: .auto, shutdownTimeout: .seconds(5))) { api in
            let buses: [(property: [String: String], device: String)] = [
                (["hw_disk_bus": "scsi", "hw_scsi_model": "virtio-scsi"], "/dev/sda"),
                (["hw_disk_bus": "sata"], "/dev/sda"),
                (["hw_disk_bus": "ide"], "/dev/hda"),
            ]
            // All three boot at once: three TCG boots one after another would triple the wait.
            var servers: [(id: String, bus: String, device: String)] = []
            for (property, device) in buses {
                let image = try await Self.uploadGuest(api, path: guest, properties: property)
                let bus = property["hw_disk_bus"] ?? ""
                servers.append((try await api.server(image: image, name: "on-\(bus)"), bus, device))
            }
            for server in servers {
                _ = try await Self.waitUp(api, server.id, booted: true)
                let details = try await api.show(server.id, as: .admin)
                #expect(details["server"]?["OS-EXT-SRV-ATTR:root_device_name"]?.string == server.device, "\(server.bus)")
                let console = try await Self.console(api, server.id)["output"]?.string ?? ""
                // libata and the SCSI layer both name the disk sd*: the guest found its data on the emulated bus.
                #expect(console.contains("data filesystem /dev/sda2 mounted"), "\(server.bus): \(console.suffix(600))")
                #expect(try await api.delete("/compute/v2.1/servers/\(server.id)").status == .noContent)
            }

            let unknown = try await Self.uploadGuest(api, path: guest, properties: ["hw_disk_bus": "scsi", "hw_scsi_model": "buslogic"])
            let refused = try await api.server(image: unknown, name: "buslogic")
            let failed = try await api.waitStatus(refused, "ERROR")
            let fault = failed["fault"]?["message"]?.string ?? ""
            #expect(fault.contains("hw_scsi_model=buslogic is not supported"), "\(failed)")
        }
    }

    /// After a restart of Glimpse, the QEMU the previous one left (found through its pid file) is ended and the
    /// server, recorded running, boots again from its disk: a second ready line, and the agent answers.
    @Test(
        .enabled(if: qemuInstalled, "qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)"),
        .timeLimit(.minutes(10)))
    func aRestartBootsRunningServersAgain() async throws {
        let scratch = testDirectory()
        let data = testDirectory()
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(atPath: scratch)
            try? FileManager.default.removeItem(atPath: data)
        }
        let guest = try Self.buildGuest(into: scratch)
        let options = QemuOptions(accelerator: .auto, shutdownTimeout: .seconds(60))
        let box = IDBox()
        try await withGlimpse(dataDirectory: data, hypervisor: .qemu, qemu: options) { api in
            let image = try await Self.uploadGuest(api, path: guest)
            let id = try await api.server(image: image, name: "survivor")
            _ = try await Self.waitUp(api, id, booted: true)
            box.id = id
        }
        let id = try #require(box.id)
        try await withGlimpse(dataDirectory: data, hypervisor: .qemu, qemu: options) { api in
            let deadline = ContinuousClock.now + Self.bootTimeout
            var readyLines = 0
            while ContinuousClock.now < deadline, readyLines < 2 {
                let out = try await Self.console(api, id)["output"]?.string ?? ""
                readyLines = out.components(separatedBy: Self.ready).count - 1
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(readyLines == 2, "ready lines in the console after the restart: \(readyLines)")
            let shown = try await api.show(id)
            #expect(shown["server"]?["status"]?.string == "ACTIVE")
            let agent = try await Self.agent(api, id)
            let pong = try await agent.execute("guest-ping")
            await agent.close()
            #expect(pong == .object([:]))
            #expect(try await api.delete("/compute/v2.1/servers/\(id)").status == .noContent)
        }
    }

    @Test(
        .enabled(if: qemuInstalled, "qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)"),
        .timeLimit(.minutes(10)))
    func liveQuiescedSnapshotBootsWithTheGuestsFile() async throws {
        let scratch = testDirectory()
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let guest = try Self.buildGuest(into: scratch)
        try await withGlimpse(hypervisor: .qemu, qemu: QemuOptions(accelerator: .auto, shutdownTimeout: .seconds(60))) { api in
            let image = try await Self.uploadGuest(api, path: guest)
            let first = try await api.server(image: image, name: "guest-1")
            _ = try await Self.waitUp(api, first, booted: true)

            // Console output: whole lines from the end; a negative or non-integer length is a 400.
            let one = try await Self.console(api, first, length: "1")
            #expect(one.status == .ok, "\(one)")
            let lines = (one["output"]?.string ?? "").split(separator: "\n", omittingEmptySubsequences: false)
            let atMostOneLine = lines.count <= 2 && (lines.count < 2 || lines[1].isEmpty)
            #expect(atMostOneLine, "length 1 gave \(lines.count) lines")
            #expect(try await Self.console(api, first, length: "-1").status == .badRequest)
            #expect(try await Self.console(api, first, length: #""ten""#).status == .badRequest)
            let details = try await api.show(first, as: .admin)
            #expect(details["server"]?["OS-EXT-SRV-ATTR:root_device_name"]?.string == "/dev/vda")

            // A file written through the agent, then a live snapshot: frozen through the agent, so quiesced.
            let content = "written before the snapshot \(UUID().uuidString)\n"
            try await Self.writeFile(api, first, path: "/data/hello.txt", content: content)
            let r = try await api.action(first, #"{"createImage":{"name":"live"}}"#, version: "2.45")
            #expect(r.status == .accepted, "\(r)")
            let snap = try #require(r["image_id"]?.string)
            let done = try #require(try await Self.waitImage(api, snap))
            #expect(done["glimpse_consistency"]?.string == "quiesced", "\(done)")
            let stillRunning = try await api.waitStatus(first, "ACTIVE")
            #expect(stillRunning["OS-EXT-STS:power_state"] == .int(1))

            // A clean stop (ACPI power button), then a cold snapshot of the stopped server.
            #expect(try await api.action(first, #"{"os-stop":null}"#).status == .accepted)
            _ = try await Self.waitUp(api, first, status: "SHUTOFF", booted: false)
            let cold = try await api.action(first, #"{"createImage":{"name":"cold"}}"#, version: "2.45")
            let coldID = try #require(cold["image_id"]?.string)
            let coldImage = try #require(try await Self.waitImage(api, coldID))
            #expect(coldImage["glimpse_consistency"]?.string == "cold", "\(coldImage)")

            // The live snapshot boots and holds the file the agent wrote.
            let second = try await api.server(image: snap, name: "guest-2")
            _ = try await Self.waitUp(api, second, booted: true)
            let readBack = try await Self.readFile(api, second, path: "/data/hello.txt")
            #expect(readBack == content)

            for id in [first, second] {
                #expect(try await api.delete("/compute/v2.1/servers/\(id)").status == .noContent)
            }
            for id in [first, second] {
                let gone = try await api.show(id)
                #expect(gone.status == .notFound)
            }
        }
    }
}

