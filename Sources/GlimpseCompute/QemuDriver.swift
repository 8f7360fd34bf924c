#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GlimpseCore
import Logging

/// The QEMU driver: every running server is a child `qemu-system-x86_64` booting the server's qcow2 overlay, with
/// its serial console in a file, QMP on a Unix socket and (when the image asks) the guest agent on another.
///
/// Power: start spawns QEMU; stop presses the ACPI power button (`system_powerdown`), waits `shutdownTimeout` for
/// the guest to power off and then ends QEMU (`quit`, then SIGKILL), as Nova's clean shutdown does; a soft reboot
/// is a clean shutdown and a new boot (a reset when the guest does not power off in time), a hard reboot a reset.
///
/// Life: every QEMU dies with Glimpse (`GuestProcess`: parent-death signal, and pid files that the next start's
/// recovery uses to kill any survivor). After a restart Glimpse therefore does a clean restart of the guests, not an
/// adoption: a running QEMU cannot be handed over to a new process reliably (its stdio, its pid-file lease and the
/// parent-death tie belong to the old one), so `adopt` boots every server that was recorded running again from its
/// disk, as Nova does with `resume_guests_state_on_host_boot`. What the guest had not written to its disk is lost,
/// exactly as after a power cut.
///
/// A QEMU that exits without Glimpse ending it (the guest powered off: status 0; anything else: a crash) is
/// reported through `onUnrequestedStop`, so the server becomes SHUTOFF at once. The guest agent also serves boot
/// tests: `pingGuestAgent` and `runInGuest` (`guest-exec`, polled with `guest-exec-status`).
public actor QemuDriver: HypervisorDriver {
    public nonisolated let name = "qemu"
    public nonisolated let runsGuests = true
    let disks: String
    let runtime: String
    let consoles: String
    let scratch: String
    let qemu: String
    let qemuImg: String
    let options: QemuOptions
    let logger: Logger
    var guests: [String: GuestProcess] = [:]
    var accelerator: String?
    /// Why the accelerator was chosen, written at the top of every boot's console output.
    var acceleratorNote = ""
    var copies: [String: String] = [:]
    var frozenAt: [String: ContinuousClock.Instant] = [:]
    /// Servers whose QEMU Glimpse itself is ending (stop, soft reboot, delete): their exits are expected.
    var stopping: Set<String> = []
    var unrequestedStop: (@Sendable (String, PowerState) async -> Void)?

    /// `directory` is the compute data directory: disks in `disks/`, consoles in `console/`, sockets in `run/`.
    public init(directory: String, scratch: String, options: QemuOptions = .init(), logger: Logger) throws {
        guard let qemu = Subprocess.which("qemu-system-x86_64") else {
            throw HypervisorError(.failed, "qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)")
        }
        self.qemu = qemu
        self.qemuImg = "qemu-img"
        self.disks = directory + "/disks"
        self.consoles = directory + "/console"
        self.scratch = scratch
        self.runtime = Self.runtimeDirectory(for: directory)
        self.options = options
        self.logger = logger
        for d in [directory + "/disks", directory + "/console", scratch, Self.runtimeDirectory(for: directory)] {
            try FileManager.default.createDirectory(
                atPath: d, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
    }

    /// Where the QMP and agent sockets of the servers of compute directory `directory` are. Unix socket paths
    /// are limited to 107 bytes: a deep data directory puts them in a short private directory instead.
    static func runtimeDirectory(for directory: String) -> String {
        let run = directory + "/run"
        if run.utf8.count + 20 < 104 { return run }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: stable across runs, unlike hashValue
        for b in run.utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        return NSTemporaryDirectory() + "glimpse-run-\(getuid())-\(String(hash, radix: 16))"
    }

    /// The guest agent socket of server `id` in `runtime`.
    static func agentSocket(runtime: String, _ id: String) -> String { "\(runtime)/\(id.prefix(13)).qga" }

    func diskPath(_ id: String) -> String { "\(disks)/\(id).qcow2" }
    func consoleLog(_ id: String) -> String { "\(consoles)/\(id).log" }
    func qmpSocket(_ id: String) -> String { "\(runtime)/\(id.prefix(13)).qmp" }
    func agentSocket(_ id: String) -> String { Self.agentSocket(runtime: runtime, id) }

    func runQemuImg(_ args: [String], limits: Subprocess.Limits) async throws {
        do {
            _ = try await Subprocess.run(qemuImg, args, scratch: scratch, limits: limits)
        } catch let f as Subprocess.Failure {
            throw HypervisorError(.failed, f.description)
        }
    }

    /// The accelerator guests run with, decided once per process (see `QemuAccelerator`).
    func resolveAccelerator() async -> String {
        if let accelerator { return accelerator }
        let chosen: String
        switch options.accelerator {
        case .kvm:
            chosen = "kvm"
            acceleratorNote = "KVM (configured)"
        case .tcg:
            chosen = "tcg"
            acceleratorNote = "TCG emulation (configured)"
        case .auto:
            let probe = await QemuAccelerator.probeKVM(qemu: qemu, scratch: scratch)
            chosen = probe.usable ? "kvm" : "tcg"
            acceleratorNote = probe.usable ? "KVM" : "TCG emulation, slow: KVM is unusable here (\(probe.reason))"
            if probe.usable {
                logger.notice("QEMU guests run under KVM (\(probe.reason))")
            } else {
                logger.warning("QEMU guests run under TCG emulation, much slower than KVM: \(probe.reason)")
            }
        }
        accelerator = chosen
        return chosen
    }

    /// The accelerator chosen so far (nil before the first boot).
    public func currentAccelerator() -> String? { accelerator }

    func liveGuest(_ id: String) -> GuestProcess? {
        guard let g = guests[id] else { return nil }
        if g.isRunning { return g }
        guests[id] = nil
        return nil
    }

    func qmp(_ id: String, timeout: Duration = .seconds(10)) async throws -> QMPClient {
        do {
            return try await QMPClient.connect(qmpSocket(id), timeout: timeout)
        } catch {
            throw HypervisorError(.failed, "QMP of server \(id) does not answer: \(error)")
        }
    }

    /// One QMP command on a fresh session (QMP allows one client at a time per socket; sessions are short).
    func qmpExecute(_ id: String, _ command: String, _ arguments: [String: JSONValue]? = nil) async throws -> JSONValue {
        let client = try await qmp(id)
        // Closed before returning: QEMU serves one QMP client at a time, so the next session waits for this one.
        do {
            let result = try await client.execute(command, arguments)
            await client.close()
            return result
        } catch {
            await client.close()
            throw HypervisorError(.failed, "server \(id): \(error)")
        }
    }

    // MARK: disks

    public func createRootDisk(for server: DriverServer, base: BaseImageFile, sizeBytes: Int64) async throws -> String {
        let path = diskPath(server.id)
        try? FileManager.default.removeItem(atPath: path)
        try await runQemuImg(
            [
                "create", "-q", "-f", "qcow2", "-F", base.format, "-b", base.path, path,
                String(max(sizeBytes, base.virtualSize)),
            ], limits: .inspect)
        logger.info("server \(server.id): root disk is a qcow2 overlay on image \(base.imageID) (\(sizeBytes) bytes)")
        return path
    }

    public func exportDisk(_ server: DriverServer, disk: String, format: String, to path: String) async throws {
        try await runQemuImg(["convert", "-q", "-f", "qcow2", "-O", format, disk, path], limits: .convert)
    }

    // MARK: power

    public func start(_ server: DriverServer, disk: String) async throws {
        guard liveGuest(server.id) == nil else { return }
        guard FileManager.default.fileExists(atPath: disk) else {
            throw HypervisorError(.failed, "the root disk of server \(server.id) is missing")
        }
        let accel = await resolveAccelerator()
        for p in [qmpSocket(server.id), agentSocket(server.id)] { try? FileManager.default.removeItem(atPath: p) }
        let command = QemuCommandLine(
            qemu: qemu, accelerator: accel, server: server, disk: disk, qmpSocket: qmpSocket(server.id),
            agentSocket: agentSocket(server.id), consoleLog: consoleLog(server.id))
        let argv = try command.arguments()
        let output = "\(consoles)/\(server.id).qemu.log"
        // The console output says how the guest runs: a user wondering why a boot is slow sees TCG there.
        ConsoleLog.append(path: consoleLog(server.id), "[glimpse] booting under \(acceleratorNote)\n")
        let guest = try await GuestProcess.spawn(argv, outputPath: output, scratch: scratch)
        guests[server.id] = guest
        Task {
            await guest.waitExit()
            await self.guestExited(server.id, guest)
        }
        // Running means QMP answers and reports the guest running; QEMU refusing its options exits at once.
        do {
            let client = try await QMPClient.connect(qmpSocket(server.id), timeout: .seconds(20))
            let status = try await client.status()
            await client.close()
            guard status == "running" else { throw HypervisorError(.failed, "QEMU reports \(status)") }
        } catch {
            // Forgotten first, so its exit is not reported as a guest that stopped by itself.
            guests[server.id] = nil
            await guest.kill()
            let said = (try? String(contentsOfFile: output, encoding: .utf8)).map { String($0.suffix(400)) } ?? ""
            throw HypervisorError(
                .failed, "QEMU did not start server \(server.id): \(HostPaths.redact(said.isEmpty ? "\(error)" : said))")
        }
        Self.keepConsoleBounded(consoleLog(server.id), while: guest)
        let bus = DiskBus(imageProperties: server.imageProperties)
        logger.info(
            "server \(server.id): QEMU pid \(guest.pid) started (\(accel), \(server.vcpus) vCPU, \(server.ramMB) MiB, \(bus.rawValue) disk\(QemuCommandLine.wantsAgent(server) ? ", guest agent" : ""))")
    }

    /// Rotates a guest's console log every two seconds for as long as its QEMU runs.
    nonisolated static func keepConsoleBounded(_ log: String, while guest: GuestProcess) {
        Task.detached {
            while !(await guest.waitExit(timeout: .seconds(2))) { ConsoleLog.rotate(path: log) }
            ConsoleLog.rotate(path: log)
        }
    }

    /// Clean shutdown: the ACPI power button, up to `timeout` for the guest to power off; then QEMU is ended.
    /// Returns whether the guest powered off by itself.
    @discardableResult
    func shutdown(_ id: String, timeout: Duration) async -> Bool {
        guard let guest = liveGuest(id) else { return true }
        stopping.insert(id)
        defer { stopping.remove(id) }
        if timeout > .zero {
            _ = try? await qmpExecute(id, "system_powerdown")
            if await guest.waitExit(timeout: timeout) {
                guests[id] = nil
                return true
            }
            logger.warning("server \(id): the guest did not power off within \(timeout); ending QEMU")
        }
        _ = try? await qmpExecute(id, "quit")
        if !(await guest.waitExit(timeout: .seconds(5))) { await guest.kill() }
        guests[id] = nil
        return false
    }

    public func stop(_ server: DriverServer, disk: String) async throws {
        await shutdown(server.id, timeout: options.shutdownTimeout)
    }

    public func onUnrequestedStop(_ handler: @escaping @Sendable (String, PowerState) async -> Void) async {
        unrequestedStop = handler
    }

    /// A QEMU ended. Unless Glimpse ended it (or it is no longer the server's current QEMU), the guest stopped by
    /// itself: QEMU exits 0 when the guest powers off (or is told `quit`), anything else is a crash.
    func guestExited(_ id: String, _ guest: GuestProcess) async {
        guard guests[id] === guest, !stopping.contains(id) else { return }
        guests[id] = nil
        let status = guest.status ?? -1
        let state: PowerState = status == 0 ? .shutdown : .crashed
        if state == .crashed {
            logger.error("server \(id): QEMU (pid \(guest.pid)) ended unexpectedly with status \(status)")
        } else {
            logger.notice("server \(id): the guest powered off by itself")
        }
        await unrequestedStop?(id, state)
    }

    public func reboot(_ server: DriverServer, disk: String, hard: Bool) async throws {
        guard liveGuest(server.id) != nil else { return try await start(server, disk: disk) }
        if hard {
            _ = try await qmpExecute(server.id, "system_reset")
            return
        }
        // A guest that does not power off in time has its QEMU ended by `shutdown`: the new boot is then a hard
        // reboot, as Nova falls back to one.
        await shutdown(server.id, timeout: options.shutdownTimeout)
        try await start(server, disk: disk)
    }

    public func powerState(of serverID: String) async -> PowerState? {
        guard liveGuest(serverID) != nil else { return .shutdown }
        guard let status = try? await qmpExecute(serverID, "query-status").objectValue?["status"]?.stringValue else {
            return .noState
        }
        switch status {
        case "running": return .running
        case "paused", "suspended", "prelaunch", "inmigrate", "postmigrate", "finish-migrate", "save-vm", "restore-vm":
            return .paused
        case "shutdown": return .shutdown
        case "internal-error", "io-error", "guest-panicked": return .crashed
        default: return .noState
        }
    }

    public func adopt(_ server: DriverServer, disk: String?, powerState: PowerState) async {
        guard powerState == .running, let disk else { return }
        do {
            try await start(server, disk: disk)
            logger.notice("server \(server.id): booted again after the restart of Glimpse (its previous QEMU ended with it)")
        } catch {
            logger.error("server \(server.id): could not boot again after the restart: \(ServerService.describe(error))")
        }
    }

    public func delete(_ server: DriverServer, disk: String?) async throws {
        await shutdown(server.id, timeout: .zero)
        let files = [diskPath(server.id), qmpSocket(server.id), agentSocket(server.id), consoleLog(server.id),
            ConsoleLog.previous(consoleLog(server.id)),
            "\(consoles)/\(server.id).qemu.log"] + (disk.map { [$0] } ?? [])
        for p in Set(files) where FileManager.default.fileExists(atPath: p) {
            try FileManager.default.removeItem(atPath: p)
        }
    }

    // MARK: capacity

    /// Total host memory, from /proc/meminfo.
    static func hostMemoryMB() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let kb = line.split(separator: " ").dropFirst().first.flatMap { Int64($0) }
            return kb.map { $0 / 1024 }
        }
        return nil
    }

    public func checkCapacity(adding count: Int, ramMB: Int64, hosted: [DriverServer]) async throws {
        if let max = options.maxGuests {
            guard hosted.count + count <= max else {
                throw HypervisorError(
                    .noCapacity,
                    "No capacity on this node: it holds \(hosted.count) of at most \(max) servers, \(count) more do not fit.")
            }
        } else if let total = Self.hostMemoryMB() {
            let held = hosted.reduce(Int64(0)) { $0.addingReportingOverflow(Swift.max(0, $1.ramMB)).partialValue }
            let (wanted, overflow) = ramMB.multipliedReportingOverflow(by: Int64(count))
            let (after, overflow2) = held.addingReportingOverflow(wanted)
            guard !overflow, !overflow2, after <= total else {
                throw HypervisorError(
                    .noCapacity,
                    "No capacity on this node: its servers hold \(held) MiB of its \(total) MiB of memory, \(count) more of \(ramMB) MiB do not fit.")
            }
        }
    }

    // MARK: console

    public func consoleOutput(of serverID: String, maxBytes: Int) async -> String? {
        ConsoleLog.tail(path: consoleLog(serverID), maxBytes: maxBytes) ?? ""
    }

    // MARK: quiesce and live copies

    func agent(_ server: DriverServer, timeout: Duration = .seconds(5)) async throws -> GuestAgentClient {
        guard QemuCommandLine.wantsAgent(server), liveGuest(server.id) != nil else {
            throw HypervisorError(
                .quiesceUnavailable, "the guest agent of instance \(server.id) is not reachable: the image does not enable it (hw_qemu_guest_agent) or the server is not running")
        }
        do {
            return try await GuestAgentClient.connect(agentSocket(server.id), timeout: timeout)
        } catch {
            throw HypervisorError(.quiesceUnavailable, "the guest agent of instance \(server.id) does not answer: \(error)")
        }
    }

    public func pingGuestAgent(_ server: DriverServer) async throws {
        _ = try await agentCall(server, timeout: .seconds(3)) { try await $0.execute("guest-ping") }
    }

    /// The longest output tail kept from a command run in a guest.
    static let guestOutputTail = 2048

    public func runInGuest(_ server: DriverServer, path: String, arguments: [String], timeout: Duration) async throws
        -> GuestCommandResult
    {
        let deadline = ContinuousClock.now + timeout
        let started = try await agentCall(server) { client in
            try await client.execute(
                "guest-exec",
                ["path": .string(path), "arg": .array(arguments.map { .string($0) }), "capture-output": .bool(true)])
        }
        guard let pid = started.objectValue?["pid"]?.intValue else {
            throw HypervisorError(.failed, "the guest agent of server \(server.id) did not say which process it started")
        }
        while ContinuousClock.now < deadline {
            // One short session per poll: the agent's port takes one client at a time.
            let status = try await agentCall(server) { client in
                try await client.execute("guest-exec-status", ["pid": .int(pid)])
            }
            if let o = status.objectValue, o["exited"] == .bool(true) {
                var output = Data()
                for key in ["out-data", "err-data"] {
                    if let b64 = o[key]?.stringValue, let bytes = Data(base64Encoded: b64) { output.append(bytes) }
                }
                return GuestCommandResult(
                    exitCode: o["exitcode"]?.intValue, signal: o["signal"]?.intValue,
                    output: String(decoding: output.suffix(Self.guestOutputTail), as: UTF8.self))
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw HypervisorError(.failed, "the command \(path) did not finish in the guest within \(timeout)")
    }

    /// Runs `body` on a fresh agent session, closed afterwards whatever happens.
    func agentCall(
        _ server: DriverServer, timeout: Duration = .seconds(5), _ body: (GuestAgentClient) async throws -> JSONValue
    ) async throws -> JSONValue {
        let client = try await agent(server, timeout: timeout)
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw HypervisorError(.failed, "server \(server.id): \(error)")
        }
    }

    public func canQuiesce(_ server: DriverServer) async -> Bool {
        guard let client = try? await agent(server, timeout: .seconds(3)) else { return false }
        // The agent's port takes one client at a time: closed before the freeze connects.
        let answered = (try? await client.execute("guest-ping")) != nil
        await client.close()
        return answered
    }

    public func quiesce(_ server: DriverServer) async throws {
        let client = try await agent(server)
        do {
            let frozen = try await client.execute("guest-fsfreeze-freeze", timeout: .seconds(30))
            await client.close()
            frozenAt[server.id] = .now
            logger.info("server \(server.id): guest filesystems frozen (\(JSONLineChannel.encode(frozen)))")
        } catch {
            // A freeze that failed half-way may have frozen some filesystems: thaw what there is.
            _ = try? await client.execute("guest-fsfreeze-thaw", timeout: .seconds(30))
            await client.close()
            throw HypervisorError(.quiesceUnavailable, "could not quiesce instance \(server.id): \(error)")
        }
    }

    public func unquiesce(_ server: DriverServer) async throws {
        let client = try await agent(server)
        do {
            _ = try await client.execute("guest-fsfreeze-thaw", timeout: .seconds(30))
            await client.close()
        } catch {
            await client.close()
            throw HypervisorError(.failed, "could not thaw the filesystems of instance \(server.id): \(error)")
        }
        if let at = frozenAt.removeValue(forKey: server.id) {
            logger.notice("server \(server.id): guest filesystems were frozen for \(ContinuousClock.now - at)")
        }
    }

    /// A `blockdev-backup` with `sync=full` into a new qcow2 file: the copy-before-write filter it installs fixes
    /// the point in time when the job starts, and the guest runs on while the data is copied. (An external
    /// snapshot would also be instant, but leaves the guest on a new overlay that must later be merged back with a
    /// block commit; a backup job leaves the running disk alone.)
    public func beginPointInTimeCopy(_ server: DriverServer, disk: String, to path: String) async throws -> Bool {
        guard liveGuest(server.id) != nil else { return false }
        let blocks = try await qmpExecute(server.id, "query-block")
        let root = blocks.arrayValue?.first { $0.objectValue?["device"]?.stringValue == QemuCommandLine.rootDrive }
        guard let size = root?.objectValue?["inserted"]?.objectValue?["image"]?.objectValue?["virtual-size"]?.intValue else {
            throw HypervisorError(.failed, "server \(server.id): QEMU does not report the root disk's size")
        }
        try? FileManager.default.removeItem(atPath: path)
        try await runQemuImg(["create", "-q", "-f", "qcow2", path, String(size)], limits: .inspect)
        let node = "snap-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await qmpExecute(
            server.id, "blockdev-add",
            [
                "driver": .string("qcow2"), "node-name": .string(node),
                "file": .object(["driver": .string("file"), "filename": .string(path)]),
            ])
        do {
            _ = try await qmpExecute(
                server.id, "blockdev-backup",
                [
                    "job-id": .string(node), "device": .string(QemuCommandLine.rootDrive), "target": .string(node),
                    "sync": .string("full"), "auto-dismiss": .bool(false),
                ])
        } catch {
            _ = try? await qmpExecute(server.id, "blockdev-del", ["node-name": .string(node)])
            throw error
        }
        copies[server.id] = node
        return true
    }

    public func finishPointInTimeCopy(_ server: DriverServer) async throws {
        guard let node = copies.removeValue(forKey: server.id) else { return }
        do {
            try await waitForCopy(server, node: node)
        } catch {
            _ = try? await qmpExecute(server.id, "blockdev-del", ["node-name": .string(node)])
            throw error
        }
        _ = try? await qmpExecute(server.id, "blockdev-del", ["node-name": .string(node)])
    }

    /// Polls the backup job `node` until it concludes (then dismisses it); throws its error.
    func waitForCopy(_ server: DriverServer, node: String) async throws {
        while true {
            guard liveGuest(server.id) != nil else {
                throw HypervisorError(.failed, "server \(server.id) stopped while its disk was being copied")
            }
            let jobs = try await qmpExecute(server.id, "query-jobs").arrayValue ?? []
            guard let job = jobs.first(where: { $0.objectValue?["id"]?.stringValue == node })?.objectValue else {
                throw HypervisorError(.failed, "server \(server.id): the disk copy job vanished")
            }
            if job["status"]?.stringValue == "concluded" {
                _ = try? await qmpExecute(server.id, "job-dismiss", ["id": .string(node)])
                if let error = job["error"]?.stringValue {
                    throw HypervisorError(.failed, "server \(server.id): the disk copy failed: \(error)")
                }
                return
            }
            if Task.isCancelled {
                _ = try? await qmpExecute(server.id, "job-cancel", ["id": .string(node)])
                throw CancellationError()
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
