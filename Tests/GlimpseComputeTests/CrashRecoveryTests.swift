import Foundation
import GlimpseCore
import Testing

@testable import GlimpseCompute

// Crash windows of the compute side, recovered at the next start: a snapshot image created but never recorded by
// its server, and a helper program (qemu-img) that outlived a killed Glimpse.

@Suite struct CrashRecoveryTests {
    /// Test helpers must not hold the test runner's output open (it waits for it to close).
    static func isRunning(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 }

    @Test func aSnapshotImageNoServerRecordedIsDeletedAtRestart() async throws {
        let dir = testDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ids = IDBox(), foreign = IDBox(), server = IDBox()
        try await withGlimpse(dataDirectory: dir) { api in
            let image = try await api.image(size: 1 << 16)
            let id = try await api.server(image: image)
            _ = try await api.waitStatus(id, "ACTIVE")
            server.id = id
            // What createImage leaves when killed between creating the image and recording it on the server.
            let r = try await api.post(
                "/v2/images",
                json: #"{"name":"snap","image_type":"snapshot","instance_uuid":"\#(id)","container_format":"bare"}"#)
            #expect(r.status == .created, "\(r)")
            ids.id = r["id"]?.string
            // A snapshot in progress by some other Nova using this image service: not ours to delete.
            let other = try await api.post(
                "/v2/images",
                json: #"{"name":"snap","image_type":"snapshot","instance_uuid":"\#(UUID().uuidString.lowercased())"}"#)
            foreign.id = other["id"]?.string
        }
        let orphan = try #require(ids.id), kept = try #require(foreign.id), sid = try #require(server.id)
        try await withGlimpse(dataDirectory: dir) { api in
            #expect(try await api.get("/v2/images/\(orphan)", as: .admin).status == .notFound)
            #expect(try await api.get("/v2/images/\(kept)", as: .admin)["status"]?.string == "queued")
            let s = try await api.show(sid)
            #expect(s["server"]?["status"]?.string == "ACTIVE")
        }
    }

    @Test func aHelperLeftRunningByAKilledGlimpseIsEndedBeforeItsOutputIsRemoved() async throws {
        let dir = testDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await withGlimpse(dataDirectory: dir) { _ in }
        let scratch = dir + "/compute/tmp"

        // A long-running helper recorded as the previous Glimpse records them, still writing its output.
        let helper = try ChildProcess.spawn(["/bin/sleep", "3600"])
        HelperProcesses.record(
            pid: helper,
            argv: ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--", "/usr/bin/prlimit", "--cpu=30", "--", "/bin/sleep", "3600"],
            at: HelperProcesses.pidFile(scratch: scratch, token: "left-over"))
        let output = scratch + "/snap-\(UUID().uuidString).qcow2"
        FileManager.default.createFile(atPath: output, contents: Data("partial".utf8))

        // A live process whose pid file names another command (a reused pid): never signalled.
        let bystander = try ChildProcess.spawn(["/bin/sleep", "3601"])
        HelperProcesses.record(
            pid: bystander, argv: ["/usr/bin/qemu-img", "convert", "x", "y"],
            at: HelperProcesses.pidFile(scratch: scratch, token: "reused-pid"))

        try await withGlimpse(dataDirectory: dir) { _ in
            // Recovery ran before the listener opened: the helper is dead (at most a zombie awaiting its parent).
            #expect(HelperProcesses.liveCommandLine(helper) == nil)
            #expect(!FileManager.default.fileExists(atPath: output))
            #expect(Self.isRunning(bystander))
            let left = (try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []
            #expect(left.isEmpty, "\(left)")
        }
        let alive = HelperProcesses.liveCommandLine(helper) != nil
        if alive { kill(helper, SIGKILL) }
        let status = await ChildProcess.exitStatus(of: helper)
        #expect(!alive && status == 128 + SIGKILL, "recovery ended the helper with SIGKILL")
        kill(bystander, SIGKILL)
        _ = await ChildProcess.exitStatus(of: bystander)
    }

    @Test func helpersRunUnderAnAddressSpaceLimit() async throws {
        let scratch = testDirectory()
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let argv = try Subprocess.commandLine("qemu-img", ["info", "x"], limits: .inspect)
        #expect(argv.contains("--pdeathsig"))
        // 2 GiB is beyond qemu-img info's 1 GiB address space; 16 MiB is within.
        await #expect(throws: Subprocess.Failure.self) {
            try await Subprocess.run("python3", ["-c", "bytearray(2 << 30)"], scratch: scratch, limits: .inspect)
        }
        _ = try await Subprocess.run("python3", ["-c", "bytearray(16 << 20)"], scratch: scratch, limits: .inspect)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty)
    }
}
