#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GlimpseCore

/// One running `qemu-system-x86_64`, a child of Glimpse that dies with it: it is spawned as
/// `setpriv --pdeathsig KILL -- qemu…` from `SpawnThread` (the parent-death signal fires when the spawning thread
/// exits, and that thread lives as long as Glimpse), and has a pid file in the scratch directory
/// (`HelperProcesses`), so a QEMU that survived anyway is killed at the next start before anything is booted again.
final class GuestProcess: @unchecked Sendable {
    private let lock = NSLock()
    private var processID: pid_t = 0
    private var exitStatus: Int32?
    private var waiters: [CheckedContinuation<Void, Never>] = []
    let pidFile: String

    private init(pidFile: String) { self.pidFile = pidFile }

    /// Starts `argv` (already resolved: program first) with stdout and stderr appended to `outputPath`.
    static func spawn(_ argv: [String], outputPath: String, scratch: String) async throws -> GuestProcess {
        guard let setpriv = Subprocess.which("setpriv") else {
            throw HypervisorError(.failed, "setpriv is needed to tie QEMU to Glimpse's life (Debian: apt-get install util-linux)")
        }
        let full = [setpriv, "--pdeathsig", "KILL", "--"] + argv
        let guest = GuestProcess(pidFile: HelperProcesses.pidFile(scratch: scratch, token: "qemu-" + UUID().uuidString))
        if !FileManager.default.fileExists(atPath: outputPath) {
            _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        }
        let pid: pid_t = try await withCheckedThrowingContinuation { (c: CheckedContinuation<pid_t, any Error>) in
            SpawnThread.shared.perform {
                do {
                    // posix_spawn (ChildProcess), not Foundation's Process: its run() crashes now and then.
                    let pid = try ChildProcess.spawn(full, stdout: outputPath, stderr: outputPath)
                    HelperProcesses.record(pid: pid, argv: full, at: guest.pidFile)
                    c.resume(returning: pid)
                } catch {
                    c.resume(throwing: HypervisorError(.failed, "could not start QEMU: \(error)"))
                }
            }
        }
        guest.set(pid)
        Task { guest.exited(await ChildProcess.exitStatus(of: pid)) }
        return guest
    }

    private func set(_ pid: pid_t) {
        lock.lock()
        processID = pid
        lock.unlock()
    }

    private func exited(_ status: Int32) {
        lock.lock()
        exitStatus = status
        let w = waiters
        waiters = []
        lock.unlock()
        try? FileManager.default.removeItem(atPath: pidFile)
        for c in w { c.resume() }
    }

    var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return exitStatus == nil
    }

    var status: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return exitStatus
    }

    var pid: Int32 {
        lock.lock()
        defer { lock.unlock() }
        return processID
    }

    /// Waits until the process has exited, at most `timeout`; returns whether it did.
    func waitExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !isRunning { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return !isRunning
    }

    /// Waits for the exit without a deadline (after SIGKILL).
    func waitExit() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            if exitStatus != nil {
                lock.unlock()
                c.resume()
            } else {
                waiters.append(c)
                lock.unlock()
            }
        }
    }

    /// SIGKILL, then the exit (the process is not reaped before, so its pid still names it).
    func kill() async {
        let pid = self.pid
        if pid > 0, isRunning { _ = Glibc.kill(pid, SIGKILL) }
        await waitExit()
    }
}
