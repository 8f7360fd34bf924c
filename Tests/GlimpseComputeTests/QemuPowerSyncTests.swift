import Foundation
@testable import GlimpseCompute
import GlimpseCore
import Testing

// Power-state sync and reboots with the real test guest: a guest that powers itself off, or whose QEMU is killed,
// makes its server SHUTOFF within seconds and `os-start` boots it again; soft and hard reboots boot the guest
// again (a new ready line) without the sync mistaking them for a stop. Slow under TCG: one boot ≈ 12–30 s.

private let qemuInstalled = FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64")
    || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/qemu-system-x86_64")

@Suite(.serialized) struct QemuPowerSyncTests {
    /// The pid of the QEMU running server `id`, from /proc (its command line names the guest).
    static func qemuPID(of id: String) -> pid_t? {
        let marker = "guest=\(id)"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry),
                let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { continue }
            let args = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if args.first?.hasSuffix("qemu-system-x86_64") == true, args.contains(marker) { return pid }
        }
        return nil
    }

    /// Polls until the server is SHUTOFF with power state 4 and no task; returns how long that took.
    static func waitShutoff(_ api: API, _ id: String, within limit: Duration) async throws -> Duration {
        let started = ContinuousClock.now
        var last: JSONValue = .null
        while ContinuousClock.now - started < limit {
            last = try await api.show(id)["server"] ?? .null
            if last["status"]?.string == "SHUTOFF", last["OS-EXT-STS:power_state"] == .int(4),
                last["OS-EXT-STS:task_state"] == .null
            {
                return ContinuousClock.now - started
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("server \(id) did not become SHUTOFF within \(limit); last: \(last)")
        throw CancellationError()
    }

    /// Waits until the console shows `count` ready lines.
    static func waitReadyLines(_ api: API, _ id: String, _ count: Int) async throws {
        let deadline = ContinuousClock.now + QemuGuestTests.bootTimeout
        var seen = 0
        while ContinuousClock.now < deadline {
            let out = try await QemuGuestTests.console(api, id)["output"]?.string ?? ""
            seen = out.components(separatedBy: QemuGuestTests.ready).count - 1
            if seen >= count { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(seen == count, "ready lines in the console: \(seen), expected \(count)")
    }

    @Test(
        .enabled(if: qemuInstalled, "qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)"),
        .timeLimit(.minutes(15)))
    func guestPoweroffAndQemuCrashMakeTheServerShutoffAndRebootsBootAgain() async throws {
        let scratch = testDirectory()
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let guest = try QemuGuestTests.buildGuest(into: scratch)
        try await withGlimpse(hypervisor: .qemu, qemu: QemuOptions(accelerator: .auto, shutdownTimeout: .seconds(60))) { api in
            let image = try await QemuGuestTests.uploadGuest(api, path: guest)
            let id = try await api.server(image: image, name: "self-stopping")
            _ = try await QemuGuestTests.waitUp(api, id, booted: true)

            // The guest powers itself off: QEMU exits 0 and the server is SHUTOFF within seconds.
            let agent = try await QemuGuestTests.agent(api, id)
            _ = try await agent.execute("guest-exec", ["path": .string("/bin/sh"), "arg": .array([.string("-c"), .string("sync; poweroff -f")])])
            await agent.close()
            let afterPoweroff = try await Self.waitShutoff(api, id, within: .seconds(20))
            print("power sync: SHUTOFF \(afterPoweroff) after the guest's poweroff was started")

            // It starts again.
            #expect(try await api.action(id, #"{"os-start":null}"#).status == .accepted)
            _ = try await QemuGuestTests.waitUp(api, id, booted: true)
            try await Self.waitReadyLines(api, id, 2)

            // A hard reboot (a reset) and a soft one (a clean shutdown and a new boot): each boots the guest again,
            // and the server stays ACTIVE: the sync does not take the soft reboot's power-off for a stop.
            #expect(try await api.action(id, #"{"reboot":{"type":"HARD"}}"#).status == .accepted)
            try await Self.waitReadyLines(api, id, 3)
            #expect(try await api.action(id, #"{"reboot":{"type":"SOFT"}}"#).status == .accepted)
            try await Self.waitReadyLines(api, id, 4)
            let rebooted = try await api.waitStatus(id, "ACTIVE")
            #expect(rebooted["OS-EXT-STS:power_state"] == .int(1), "\(rebooted)")
            let pingAgain = try await QemuGuestTests.agent(api, id)
            let pong = try await pingAgain.execute("guest-ping")
            await pingAgain.close()
            #expect(pong == .object([:]))

            // QEMU dies (kill -9): a crash, and the server is SHUTOFF too.
            let pid = try #require(Self.qemuPID(of: id))
            #expect(kill(pid, SIGKILL) == 0)
            let afterKill = try await Self.waitShutoff(api, id, within: .seconds(20))
            print("power sync: SHUTOFF \(afterKill) after QEMU was killed")
            #expect(Self.qemuPID(of: id) == nil)

            #expect(try await api.action(id, #"{"os-start":null}"#).status == .accepted)
            _ = try await QemuGuestTests.waitUp(api, id, booted: true)
            #expect(try await api.delete("/compute/v2.1/servers/\(id)").status == .noContent)
            #expect(try await api.show(id).status == .notFound)
        }
    }
}
