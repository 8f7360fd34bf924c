import Foundation
import GlimpseCompute
import GlimpseCore
import GlimpseImageAPI
import GlimpseStorage
import Logging
import NIOCore
import Testing

@Suite struct SnapshotTests {
    @Test func coldSnapshotCarriesNovaPropertiesAndTheGuestsWrites() async throws {
        try await withGlimpse { api in
            let image = try await api.image(
                size: 1 << 20, fill: 0x11,
                properties: [
                    "hw_disk_bus": "scsi", "hw_qemu_guest_agent": "yes", "os_require_quiesce": "yes",
                    "cache_in_nova": "true", "bittorrent": "x",
                ])
            let id = try await api.server(image: image, name: "snapme")
            _ = try await api.waitStatus(id, "ACTIVE")
            // A guest write: 64 KiB of 0xab at 2 MiB.
            let disk = api.dataDirectory + "/compute/disks/\(id).qcow2"
            _ = try run(["qemu-io", "-f", "qcow2", "-c", "write -P 0xab 2M 64k", disk])

            // Running, image requires quiesce, no guest agent: refused.
            let refused = try await api.action(id, #"{"createImage":{"name":"snap"}}"#, version: "2.45")
            #expect(refused.status == .conflict, "\(refused)")
            #expect(refused["conflictingRequest"]?["message"]?.string?.contains("quiesce") == true)

            #expect(try await api.action(id, #"{"os-stop":null}"#).status == .accepted)
            _ = try await api.waitStatus(id, "SHUTOFF")
            let bad = try await api.action(id, #"{"createImage":{"name":"snap","colour":"red"}}"#, version: "2.45")
            #expect(bad.status == .badRequest)
            let r = try await api.action(id, #"{"createImage":{"name":"snap","metadata":{"purpose":"test"}}}"#, version: "2.45")
            #expect(r.status == .accepted, "\(r)")
            #expect(r.header("Location") == nil)
            let snap = try #require(r["image_id"]?.string)
            let done = try #require(try await api.waitImage(snap, "active"))
            _ = try await api.waitStatus(id, "SHUTOFF")

            #expect(done["image_type"]?.string == "snapshot")
            #expect(done["instance_uuid"]?.string == id)
            #expect(done["base_image_ref"]?.string == image)
            #expect(done["image_location"]?.string == "snapshot")
            #expect(done["image_state"]?.string == "available")
            #expect(done["owner_id"]?.string == "p-alice")
            #expect(done["user_id"]?.string == "alice")
            #expect(done["owner_project_name"]?.string == "p-alice")
            #expect(done["owner_user_name"]?.string == "alice")
            #expect(done["boot_roles"]?.string == "member,reader")
            #expect(done["hw_disk_bus"]?.string == "scsi")
            #expect(done["os_require_quiesce"]?.string == "yes")
            #expect(done["purpose"]?.string == "test")
            #expect(done["glimpse_consistency"]?.string == "cold")
            #expect(done["cache_in_nova"] == nil)
            #expect(done["bittorrent"] == nil)
            #expect(done["visibility"]?.string == "private")
            #expect(done["owner"]?.string == "p-alice")
            #expect(done["disk_format"]?.string == "qcow2")
            #expect(done["container_format"]?.string == "bare")
            #expect(done["min_disk"]?.int == 1)
            // The plain image has none of the snapshot properties.
            let plain = try await api.get("/v2/images/\(image)")
            for k in ["image_type", "instance_uuid", "base_image_ref", "image_location"] { #expect(plain[k] == nil) }

            // The data: a flattened qcow2 holding the base data and the guest's write.
            let file = try await api.get("/v2/images/\(snap)/file")
            #expect(file.status == .ok)
            let qcow = api.dataDirectory + "/snap-check.qcow2", raw = api.dataDirectory + "/snap-check.raw"
            try Data(file.body.readableBytesView).write(to: URL(fileURLWithPath: qcow))
            #expect(!(try run(["qemu-img", "info", "--output=json", qcow])).contains("backing-filename"))
            _ = try run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", qcow, raw])
            let bytes = try Data(contentsOf: URL(fileURLWithPath: raw))
            #expect(bytes.count == 1 << 30)
            #expect(bytes[0] == 0x11 && bytes[(1 << 20) - 1] == 0x11)
            #expect(bytes[1 << 20] == 0)
            #expect(bytes[2 << 20] == 0xab && bytes[(2 << 20) + 65535] == 0xab && bytes[(2 << 20) + 65536] == 0)

            // Boot the snapshot: its disk holds the pattern.
            let second = try await api.server(image: snap, name: "from-snap")
            _ = try await api.waitStatus(second, "ACTIVE")
            let read = try run([
                "qemu-io", "-f", "qcow2", "-c", "read -P 0xab 2M 64k",
                api.dataDirectory + "/compute/disks/\(second).qcow2",
            ])
            #expect(!read.contains("Pattern verification failed"))
            #expect(read.contains("read 65536/65536"))
        }
    }

    @Test func runningSnapshotIsCrashConsistentAndFollowsTheMicroversion() async throws {
        try await withGlimpse(snapshotFormat: "raw") { api in
            let image = try await api.image(properties: ["hw_qemu_guest_agent": "yes"])
            let id = try await api.server(image: image)
            _ = try await api.waitStatus(id, "ACTIVE")
            // Before 2.45: empty body and a Location header naming the image.
            let r = try await api.action(id, #"{"createImage":{"name":"live"}}"#, version: "2.44")
            #expect(r.status == .accepted, "\(r)")
            let location = try #require(r.header("Location"))
            #expect(location.hasPrefix("http://glimpse.test:9292/images/"))
            let snap = String(location.split(separator: "/").last!)
            let done = try #require(try await api.waitImage(snap, "active"))
            #expect(done["glimpse_consistency"]?.string == "crash")
            #expect(done["disk_format"]?.string == "raw")
            #expect(done["size"]?.int == 1 << 30)
            _ = try await api.waitStatus(id, "ACTIVE")
        }
    }

    @Test func deletingTheImageDoesNotBreakItsServers() async throws {
        try await withGlimpse { api in
            let image = try await api.image()
            let id = try await api.server(image: image)
            _ = try await api.waitStatus(id, "ACTIVE")
            #expect(try await api.delete("/v2/images/\(image)").status == .noContent)
            #expect(try await api.action(id, #"{"os-stop":null}"#).status == .accepted)
            _ = try await api.waitStatus(id, "SHUTOFF")
            let r = try await api.action(id, #"{"createImage":{"name":"after"}}"#, version: "2.45")
            let snap = try #require(r["image_id"]?.string)
            #expect(try await api.waitImage(snap, "active") != nil)
            #expect(try await api.action(id, #"{"os-start":null}"#).status == .accepted)
            _ = try await api.waitStatus(id, "ACTIVE")
        }
    }

    @Test func restartKeepsServersAndEndsInterruptedSnapshots() async throws {
        let dir = testDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let holder = Holder()
        try await withGlimpse(dataDirectory: dir) { api in
                let image = try await api.image()
                let running = try await api.server(image: image, name: "keeps-running")
                let stopped = try await api.server(image: image, name: "stays-stopped")
                _ = try await api.waitStatus(running, "ACTIVE")
                _ = try await api.waitStatus(stopped, "ACTIVE")
                #expect(try await api.action(stopped, #"{"os-stop":null}"#).status == .accepted)
                _ = try await api.waitStatus(stopped, "SHUTOFF")
                // An image a snapshot was uploading into when the process died.
                let q = try await api.post("/v2/images", json: #"{"name":"half","disk_format":"qcow2","container_format":"bare"}"#)
                await holder.set([running, stopped, try #require(q["id"]?.string)])
        }
        let got = await holder.values
        let ids = (got[0], got[1], got[2])
        // Simulate the crash: the store says a snapshot was uploading.
        let store = try SQLiteComputeStore(path: dir + "/compute.sqlite")
        _ = try await store.updateServer(id: ids.0) {
            $0.taskState = .imageUploading
            $0.snapshotImageID = ids.2
        }
        try await withGlimpse(dataDirectory: dir) { api in
            let s = try await api.show(ids.0)
            #expect(s["server"]?["status"]?.string == "ACTIVE")
            #expect(s["server"]?["OS-EXT-STS:task_state"] == .null)
            let t = try await api.show(ids.1)
            #expect(t["server"]?["status"]?.string == "SHUTOFF")
            #expect(try await api.get("/v2/images/\(ids.2)", as: .admin).status == .notFound)
            #expect(FileManager.default.fileExists(atPath: dir + "/compute/disks/\(ids.0).qcow2"))
            // Both still work.
            #expect(try await api.action(ids.1, #"{"os-start":null}"#).status == .accepted)
            _ = try await api.waitStatus(ids.1, "ACTIVE")
            let r = try await api.action(ids.1, #"{"createImage":{"name":"post-restart"}}"#, version: "2.45")
            #expect(try await api.waitImage(try #require(r["image_id"]?.string), "active") != nil)
        }
    }
}

actor Holder {
    var values: [String] = []
    func set(_ v: [String]) { values = v }
}

/// A driver whose disk export waits until the test opens the gate, so the snapshot's states can be observed.
actor Gate {
    var open = false
    func release() { open = true }
    func close() { open = false }
    func wait() async { while !open { try? await Task.sleep(for: .milliseconds(10)) } }
}

struct GatedDriver: HypervisorDriver {
    let inner: OverlayDriver
    let gate: Gate
    var name: String { "gated overlay" }
    var runsGuests: Bool { false }
    func createRootDisk(for s: DriverServer, base: BaseImageFile, sizeBytes: Int64) async throws -> String {
        try await inner.createRootDisk(for: s, base: base, sizeBytes: sizeBytes)
    }
    func start(_ s: DriverServer, disk: String) async throws { try await inner.start(s, disk: disk) }
    func stop(_ s: DriverServer, disk: String) async throws { try await inner.stop(s, disk: disk) }
    func reboot(_ s: DriverServer, disk: String, hard: Bool) async throws { try await inner.reboot(s, disk: disk, hard: hard) }
    func powerState(of id: String) async -> PowerState? { await inner.powerState(of: id) }
    func adopt(_ s: DriverServer, disk: String?, powerState: PowerState) async { await inner.adopt(s, disk: disk, powerState: powerState) }
    func delete(_ s: DriverServer, disk: String?) async throws { try await inner.delete(s, disk: disk) }
    func canQuiesce(_ s: DriverServer) async -> Bool { false }
    func quiesce(_ s: DriverServer) async throws { try await inner.quiesce(s) }
    func unquiesce(_ s: DriverServer) async throws {}
    func pingGuestAgent(_ s: DriverServer) async throws { try await inner.pingGuestAgent(s) }
    func runInGuest(_ s: DriverServer, path: String, arguments: [String], timeout: Duration) async throws -> GuestCommandResult {
        try await inner.runInGuest(s, path: path, arguments: arguments, timeout: timeout)
    }
    func exportDisk(_ s: DriverServer, disk: String, format: String, to path: String) async throws {
        await gate.wait()
        try Task.checkCancellation()
        try await inner.exportDisk(s, disk: disk, format: format, to: path)
    }
}

@Suite struct SnapshotStateMachineTests {
    @Test func taskStatesAreVisibleAndGuardActions() async throws {
        let dir = testDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var logger = Logger(label: "t")
        logger.logLevel = .error
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let images = ImageService(
            metadata: try SQLiteMetadataStore(path: dir + "/glimpse.sqlite"), blobs: try FileBlobStore(root: dir + "/blobs"),
            logger: logger)
        let gate = Gate()
        let driver = GatedDriver(
            inner: try OverlayDriver(directory: dir + "/compute/disks", scratch: dir + "/compute/tmp", logger: logger), gate: gate)
        let compute = try await ComputeAPI.open(
            dataDirectory: dir, store: try SQLiteComputeStore(path: dir + "/compute.sqlite"), images: images,
            publicURL: "http://x", driver: driver, logger: logger)
        let service = compute.service
        let alice = Caller(userID: "alice", projectID: "p-alice", roles: ["member", "reader"])
        var image = try await images.create(
            ["name": .string("b"), "disk_format": .string("raw"), "container_format": .string("bare")], caller: alice)
        image = try await images.upload(
            image.id, body: OneBuffer(buffer: ByteBuffer(repeating: 7, count: 4096)), declaredSize: 4096, caller: alice)
        let req = ServerCreateRequest(
            name: "vm", imageRef: image.id, flavorRef: "1", userName: "alice", projectName: "alice-project")
        let server = try #require(try await service.create(req, caller: alice).first)
        await service.waitIdle(server.id)
        #expect(try await service.server(server.id, caller: alice).vmState == .active)

        let snap = try await service.createImage(server.id, name: "s", metadata: [:], caller: alice)
        // The export waits at the gate: the poller sees image_pending_upload.
        var seen: TaskState?
        for _ in 0..<200 {
            seen = try await service.server(server.id, caller: alice).taskState
            if seen == .imagePendingUpload { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(seen == .imagePendingUpload)
        await #expect(throws: GlimpseError.self) {
            _ = try await service.createImage(server.id, name: "again", metadata: [:], caller: alice)
        }
        do {
            try await service.stop(server.id, caller: alice)
            Issue.record("stop during a snapshot was allowed")
        } catch let e as GlimpseError {
            #expect(e.kind == .conflict)
            #expect(e.message == "Cannot 'stop' instance \(server.id) while it is in task_state image_pending_upload")
        }
        #expect(try await images.visibleImage(snap, caller: alice).status == .queued)
        await gate.release()
        await service.waitIdle(server.id)
        let after = try await service.server(server.id, caller: alice)
        #expect(after.taskState == nil)
        #expect(after.snapshotImageID == nil)
        let done = try await images.visibleImage(snap, caller: alice)
        #expect(done.status == .active)
        #expect(done.properties["glimpse_consistency"] == "crash")
        #expect(done.properties["owner_project_name"] == "alice-project")

        // A snapshot cut short by deleting the server leaves no image behind.
        await gate.close()
        let snap2 = try await service.createImage(server.id, name: "s2", metadata: [:], caller: alice)
        try await service.delete(server.id, caller: alice)
        await #expect(throws: GlimpseError.self) { _ = try await images.visibleImage(snap2, caller: alice) }
        await service.shutdown()
    }
}

/// A body of one buffer.
struct OneBuffer: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let buffer: ByteBuffer
    struct AsyncIterator: AsyncIteratorProtocol {
        var buffer: ByteBuffer?
        mutating func next() async throws -> ByteBuffer? {
            defer { buffer = nil }
            return buffer
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffer: buffer) }
}
