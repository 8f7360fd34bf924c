import Foundation
@testable import GlimpseCompute
import GlimpseCore
import Testing

// Boot tests with the real test guest (scripts/build-test-guest) under QEMU: a good image passes and is marked,
// a failing check fails it, an image without a boot loader fails within its timeout, and the throwaway server is
// gone afterwards every time. Slow under TCG (one boot ≈ 12–30 s): run one at a time.

private let qemuInstalled = FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64")
    || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/qemu-system-x86_64")

@Suite(.serialized) struct QemuBootTestTests {
    static let path = "/compute/v2.1/os-glimpse-boot-tests"

    /// Starts a boot test (202 expected) and polls it until it ends; returns the final document.
    static func bootTest(_ api: API, _ spec: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        let r = try await api.post(path, json: #"{"boot_test":\#(spec)}"#)
        #expect(r.status == .accepted, "\(r)", sourceLocation: sourceLocation)
        let id = try #require(r["boot_test"]?["id"]?.string, sourceLocation: sourceLocation)
        #expect(r.header("Location")?.hasSuffix("/os-glimpse-boot-tests/\(id)") == true, sourceLocation: sourceLocation)
        let deadline = ContinuousClock.now + .seconds(600)
        var last: JSONValue = .null
        var sawServerListed = false
        while ContinuousClock.now < deadline {
            last = try await api.get("\(path)/\(id)")["boot_test"] ?? .null
            if last["status"]?.string != "running" { break }
            // While it runs, the throwaway server is an ordinary server of the caller's project.
            if !sawServerListed, let server = last["server_id"]?.string {
                let listed = try await api.get("/compute/v2.1/servers")["servers"]?.array ?? []
                sawServerListed = listed.contains { $0["id"]?.string == server }
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(last["status"]?.string != "running", "the boot test did not end: \(last)", sourceLocation: sourceLocation)
        #expect(sawServerListed, "the throwaway server was not listed while the test ran", sourceLocation: sourceLocation)
        for step in last["steps"]?.array ?? [] {
            let elapsed: String
            if case .double(let d)? = step["elapsed"] { elapsed = String(format: "%.1f", d) } else { elapsed = "?" }
            print("boot test \(id): +\(elapsed) s \(step["step"]?.string ?? ""): \(step["detail"]?.string ?? "")")
        }
        // The throwaway server is gone in every case.
        let server = try #require(last["server_id"]?.string, sourceLocation: sourceLocation)
        #expect(try await api.show(server).status == .notFound, sourceLocation: sourceLocation)
        return last
    }

    @Test(
        .enabled(if: qemuInstalled, "qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)"),
        .timeLimit(.minutes(15)))
    func aGoodImagePassesAndAFailingCheckFailsIt() async throws {
        let scratch = testDirectory()
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let guest = try QemuGuestTests.buildGuest(into: scratch)
        try await withGlimpse(hypervisor: .qemu, qemu: QemuOptions(accelerator: .auto, shutdownTimeout: .seconds(30))) { api in
            let image = try await QemuGuestTests.uploadGuest(api, path: guest)

            // The agent shows the guest is up; the check sees the data disk mounted.
            let passed = try await Self.bootTest(
                api, #"{"image_ref":"\#(image)","timeout":300,"check":{"path":"/bin/sh","args":["-c","test -d /data && echo data-mounted"]}}"#)
            #expect(passed["status"]?.string == "passed", "\(passed)")
            #expect(passed["reason"] == .null)
            #expect(passed["image_updated"] == .bool(true), "\(passed)")
            let steps = (passed["steps"]?.array ?? []).compactMap { $0["step"]?.string }
            #expect(steps.contains("agent") && steps.contains("check"), "\(steps)")
            let checkStep = (passed["steps"]?.array ?? []).first { $0["step"]?.string == "check" }
            #expect(checkStep?["detail"]?.string == "/bin/sh ended with exit status 0: data-mounted", "\(checkStep ?? .null)")
            var shown = try await api.get("/v2/images/\(image)")
            #expect(shown["glimpse_boot_test"]?.string == "passed", "\(shown)")
            let at = shown["glimpse_boot_test_at"]?.string ?? ""
            #expect(Timestamp(iso8601: at) != nil && at.hasSuffix("Z"), "\(at)")

            // A console pattern shows the guest is up; a check that exits 1 fails the test and says why.
            let failed = try await Self.bootTest(
                api,
                #"{"image_ref":"\#(image)","flavor_ref":"1","timeout":300,"console_pattern":"^GLIMPSE-GUEST-READY uptime=[0-9.]+s$","check":{"path":"/bin/sh","args":["-c","echo not-good; exit 1"]}}"#)
            #expect(failed["status"]?.string == "failed", "\(failed)")
            let reason = failed["reason"]?.string ?? ""
            #expect(reason.contains("exit status 1") && reason.contains("not-good"), "\(reason)")
            shown = try await api.get("/v2/images/\(image)")
            #expect(shown["glimpse_boot_test"]?.string == "failed", "\(shown)")
            #expect(shown["glimpse_boot_test_reason"]?.string?.contains("exit status 1") == true, "\(shown)")
        }
    }

    @Test(
        .enabled(if: qemuInstalled, "qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)"),
        .timeLimit(.minutes(10)))
    func anImageWithoutABootLoaderFailsWithinItsTimeout() async throws {
        try await withGlimpse(hypervisor: .qemu, qemu: QemuOptions(accelerator: .auto, shutdownTimeout: .seconds(30))) { api in
            // A blank raw disk: nothing to boot, so the agent the image asks for never answers.
            let blank = try await api.image(size: 1 << 20, fill: 0, properties: ["hw_qemu_guest_agent": "yes"])
            let started = ContinuousClock.now
            let failed = try await Self.bootTest(api, #"{"image_ref":"\#(blank)","timeout":20}"#)
            let took = ContinuousClock.now - started
            #expect(failed["status"]?.string == "failed", "\(failed)")
            let reason = failed["reason"]?.string ?? ""
            #expect(reason.contains("did not show it was up within 20 s"), "\(reason)")
            // Within its timeout, plus the build and the deletion.
            #expect(took < .seconds(90), "took \(took)")
            let shown = try await api.get("/v2/images/\(blank)")
            #expect(shown["glimpse_boot_test"]?.string == "failed", "\(shown)")
            #expect(shown["glimpse_boot_test_reason"]?.string == reason, "\(shown)")
            // Another project's caller could not have written it: bob cannot boot-test alice's private image.
            let foreign = try await api.post(Self.path, json: #"{"boot_test":{"image_ref":"\#(blank)"}}"#, as: .bob)
            #expect(foreign.status == .badRequest, "\(foreign)")
        }
    }
}
