import Foundation
@testable import GlimpseCompute
import GlimpseCore
import Testing

// `kill -9` of a real `glimpse serve` (the built binary, started here) with a guest running, then a restart on the
// same data directory: the QEMU dies with Glimpse (parent-death signal), none is left, and the restart boots the
// server again (a clean restart, not an adoption) so it is truthfully ACTIVE and its agent answers.

private let qemuInstalled = FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64")
    || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/qemu-system-x86_64")

/// The glimpse binary: GLIMPSE_BIN, else the debug build next to these tests.
private let glimpseBinary: String? = {
    if let given = ProcessInfo.processInfo.environment["GLIMPSE_BIN"], !given.isEmpty { return given }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    let built = root + "/.build/debug/glimpse"
    return FileManager.default.isExecutableFile(atPath: built) ? built : nil
}()

@Suite(.serialized) struct QemuKilledGlimpseTests {
    /// A `glimpse serve` child on `port` over `data`.
    struct Served {
        let pid: pid_t
        let url: String
        let log: String
    }

    /// A TCP port nothing listens on now (bound to port 0, then released).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { a in
                bind(fd, a, length) == 0 && getsockname(fd, a, &length) == 0
            }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : 0
    }

    static func serve(_ binary: String, data: String, port: Int) async throws -> Served {
        let log = data + "/serve-\(UUID().uuidString.prefix(8)).log"
        let pid = try ChildProcess.spawn(
            [binary, "serve", "--host", "127.0.0.1", "--port", String(port), "--data-dir", data, "--auth", "none",
                "--hypervisor", "qemu", "--no-metrics", "--shutdown-timeout", "30"],
            stdout: log, stderr: log)
        let served = Served(pid: pid, url: "http://127.0.0.1:\(port)", log: log)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try await curl(served, "GET", "/versions").status == 200 { return served }
            try await Task.sleep(for: .milliseconds(300))
        }
        let said = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        Issue.record("glimpse serve did not answer: \(said.suffix(2000))")
        throw CancellationError()
    }

    /// One request through curl as alice; the status and the body as JSON.
    static func curl(_ s: Served, _ method: String, _ path: String, json: String? = nil, file: String? = nil) async throws
        -> (status: Int, body: JSONValue)
    {
        var args = [
            "/usr/bin/curl", "-s", "-m", "30", "-X", method, "-w", "\n%{http_code}", "-H", "X-User-Id: alice",
            "-H", "X-Project-Id: p-alice", "-H", "X-Roles: member,reader", "-H", "OpenStack-API-Version: compute 2.47",
        ]
        if let json { args += ["-H", "Content-Type: application/json", "-d", json] }
        if let file { args += ["-H", "Content-Type: application/octet-stream", "--data-binary", "@" + file] }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-curl-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let pid = try ChildProcess.spawn(args + [s.url + path], stdout: output)
        _ = await ChildProcess.exitStatus(of: pid)
        let out = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
        let status = lines.last.flatMap { Int($0) } ?? 0
        let body = lines.dropLast().joined(separator: "\n")
        let decoded = (try? JSONDecoder().decode(JSONValue.self, from: Data(body.utf8))) ?? .null
        return (status, decoded)
    }

    static func readyLines(_ s: Served, _ id: String) async throws -> Int {
        let r = try await curl(s, "POST", "/compute/v2.1/servers/\(id)/action", json: #"{"os-getConsoleOutput":{"length":null}}"#)
        return (r.body["output"]?.string ?? "").components(separatedBy: QemuGuestTests.ready).count - 1
    }

    static func waitReady(_ s: Served, _ id: String, lines: Int) async throws {
        let deadline = ContinuousClock.now + QemuGuestTests.bootTimeout
        var seen = 0
        while ContinuousClock.now < deadline {
            seen = try await readyLines(s, id)
            if seen >= lines { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        Issue.record("server \(id): \(seen) ready lines, expected \(lines)")
        throw CancellationError()
    }

    @Test(
        .enabled(if: qemuInstalled, "qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)"),
        .enabled(if: glimpseBinary != nil, "the glimpse binary is not built (swift build, or set GLIMPSE_BIN)"),
        .timeLimit(.minutes(10)))
    func killNineLeavesNoQemuAndTheRestartBootsTheServerAgain() async throws {
        let binary = try #require(glimpseBinary)
        let data = testDirectory()
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let guest = try QemuGuestTests.buildGuest(into: data)
        let port = Self.freePort()

        let first = try await Self.serve(binary, data: data, port: port)
        var firstKilled = false
        defer { if !firstKilled { kill(first.pid, SIGKILL) } }
        let created = try await Self.curl(
            first, "POST", "/v2/images",
            json: #"{"name":"guest","disk_format":"qcow2","container_format":"bare","hw_qemu_guest_agent":"yes"}"#)
        let image = try #require(created.body["id"]?.string, "\(created)")
        #expect(try await Self.curl(first, "PUT", "/v2/images/\(image)/file", file: guest).status == 204)
        let server = try await Self.curl(
            first, "POST", "/compute/v2.1/servers",
            json: #"{"server":{"name":"survivor","flavorRef":"1","imageRef":"\#(image)","networks":"none","metadata":{"glimpse_boot_test":"not one"}}}"#)
        let id = try #require(server.body["server"]?["id"]?.string, "\(server)")
        try await Self.waitReady(first, id, lines: 1)
        // A boot test in flight when Glimpse is killed: its throwaway server is deleted at the restart (the user
        // metadata key the survivor carries is not what marks it).
        let bootTest = try await Self.curl(
            first, "POST", "/compute/v2.1/os-glimpse-boot-tests", json: #"{"boot_test":{"image_ref":"\#(image)","timeout":600}}"#)
        let throwaway = try #require(bootTest.body["boot_test"]?["server_id"]?.string, "\(bootTest)")
        let qemu = try #require(QemuPowerSyncTests.qemuPID(of: id))

        // kill -9: nothing of Glimpse runs any more, and its QEMU dies with it (parent-death signal).
        #expect(kill(first.pid, SIGKILL) == 0)
        firstKilled = true
        #expect(await ChildProcess.exitStatus(of: first.pid) == 128 + SIGKILL)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, kill(qemu, 0) == 0 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(kill(qemu, 0) != 0, "QEMU \(qemu) outlived the killed Glimpse")
        #expect(QemuPowerSyncTests.qemuPID(of: id) == nil)

        // The restart boots the server again from its disk: ACTIVE, a second ready line, the agent answers.
        let second = try await Self.serve(binary, data: data, port: port)
        var secondStopped = false
        defer { if !secondStopped { kill(second.pid, SIGKILL) } }
        try await Self.waitReady(second, id, lines: 2)
        #expect(try await Self.curl(second, "GET", "/compute/v2.1/servers/\(throwaway)").status == 404)
        #expect(QemuPowerSyncTests.qemuPID(of: throwaway) == nil)
        let listed = try await Self.curl(second, "GET", "/compute/v2.1/servers")
        #expect(listed.body["servers"]?.array?.map { $0["id"]?.string } == [id], "\(listed)")
        let shown = try await Self.curl(second, "GET", "/compute/v2.1/servers/\(id)")
        #expect(shown.body["server"]?["status"]?.string == "ACTIVE", "\(shown)")
        #expect(shown.body["server"]?["OS-EXT-STS:power_state"] == .int(1), "\(shown)")
        let newQemu = QemuPowerSyncTests.qemuPID(of: id)
        #expect(newQemu != nil && newQemu != qemu)
        let runtime = QemuDriver.runtimeDirectory(for: data + "/compute")
        let agent = try await GuestAgentClient.connect(QemuDriver.agentSocket(runtime: runtime, id), timeout: .seconds(10))
        let pong = try await agent.execute("guest-ping")
        await agent.close()
        #expect(pong == .object([:]))

        #expect(try await Self.curl(second, "DELETE", "/compute/v2.1/servers/\(id)").status == 204)
        #expect(QemuPowerSyncTests.qemuPID(of: id) == nil)
        kill(second.pid, SIGTERM)
        secondStopped = true
        #expect(await ChildProcess.exitStatus(of: second.pid) == 0)
    }
}
