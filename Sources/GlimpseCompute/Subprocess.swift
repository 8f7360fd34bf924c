#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GlimpseCore

/// Runs a helper program (qemu-img) without blocking a thread: output goes to temporary files, the exit is awaited
/// through the termination handler, and cancelling the calling task terminates the program.
///
/// Helpers are bounded and tied to Glimpse's life: each runs under `prlimit` (address space and CPU time, as Nova
/// runs `qemu-img` against malicious headers) and `setpriv --pdeathsig KILL`, spawned from one thread that lives as
/// long as the process (the parent-death signal fires when the spawning *thread* exits, and pool threads come and
/// go). Each running helper also has a pid file in the scratch directory (`HelperProcesses`), so the next start
/// ends any helper that survived and only then removes its output.
enum Subprocess {
    struct Failure: Error, CustomStringConvertible {
        /// The program and its verb (`qemu-img convert`), never its file arguments.
        var command: String
        var status: Int32
        /// What the program said, with host paths replaced (`HostPaths.redact`).
        var stderr: String
        var description: String { "\(command) exited with status \(status): \(stderr)" }
    }

    struct Result: Sendable {
        var stdout: String
        var stderr: String
    }

    /// Resource limits applied to a helper through util-linux `prlimit`.
    struct Limits: Sendable {
        var addressSpaceBytes: Int64
        var cpuSeconds: Int

        /// oslo.concurrency's `ProcessLimits` Nova uses for `qemu-img info`: 1 GiB of address space, 30 s of CPU.
        /// `qemu-img create` of an overlay only reads the base's header and writes a few clusters, so it gets the same.
        static let inspect = Limits(addressSpaceBytes: 1 << 30, cpuSeconds: 30)
        /// `qemu-img convert` reads and writes the whole disk: it measured needing more than 256 MiB and less than
        /// 512 MiB of address space (2 MiB aligned buffers, an I/O thread pool), so 2 GiB leaves room for bigger
        /// tables without letting a crafted header claim the host's memory; CPU grows with the data (about 1 s per
        /// GiB), so an hour bounds a runaway without cutting off a real multi-hundred-GiB flatten.
        static let convert = Limits(addressSpaceBytes: 2 << 30, cpuSeconds: 3600)
    }

    /// Finds `name` on PATH (and in the usual sbin directories).
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") + ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The full command line for `executable` under `limits` and the parent-death signal.
    static func commandLine(_ executable: String, _ arguments: [String], limits: Limits) throws -> [String] {
        guard let path = executable.hasPrefix("/") ? executable : which(executable) else {
            throw GlimpseError.internalError("\(executable) is not installed (Debian: apt-get install qemu-utils)")
        }
        guard let prlimit = which("prlimit"), let setpriv = which("setpriv") else {
            throw GlimpseError.internalError(
                "prlimit and setpriv are needed to run \(executable) under limits (Debian: apt-get install util-linux)")
        }
        return [
            setpriv, "--pdeathsig", "KILL", "--",
            prlimit, "--as=\(limits.addressSpaceBytes)", "--cpu=\(limits.cpuSeconds)", "--",
            path,
        ] + arguments
    }

    /// Runs `executable` with `arguments` under `limits`; throws `Failure` on a non-zero exit.
    static func run(_ executable: String, _ arguments: [String], scratch: String, limits: Limits) async throws -> Result {
        let argv = try commandLine(executable, arguments, limits: limits)
        let verb = ([executable.split(separator: "/").last.map(String.init) ?? executable] + arguments.prefix(1))
            .joined(separator: " ")
        let token = UUID().uuidString
        let outPath = "\(scratch)/.proc-\(token).out"
        let errPath = "\(scratch)/.proc-\(token).err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let pidFile = HelperProcesses.pidFile(scratch: scratch, token: token)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
            try? FileManager.default.removeItem(atPath: pidFile)
        }
        let box = ProcessBox()
        let status: Int32 = try await withTaskCancellationHandler {
            let pid: pid_t = try await withCheckedThrowingContinuation { (c: CheckedContinuation<pid_t, any Error>) in
                SpawnThread.shared.perform {
                    do {
                        let pid = try ChildProcess.spawn(argv, stdout: outPath, stderr: errPath)
                        // A pid file written after its process ended names a dead pid, which recovery checks and
                        // discards.
                        HelperProcesses.record(pid: pid, argv: argv, at: pidFile)
                        box.set(pid)
                        c.resume(returning: pid)
                    } catch {
                        c.resume(throwing: GlimpseError.internalError("could not run \(verb): \(error)"))
                    }
                }
            }
            let status = await ChildProcess.exitStatus(of: pid)
            box.finished()
            return status
        } onCancel: {
            box.terminate()
        }
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        try Task.checkCancellation()
        guard status == 0 else {
            throw Failure(
                command: verb, status: status,
                stderr: HostPaths.redact(err.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        return Result(stdout: out, stderr: err)
    }
}

/// Holds a running process so a cancellation handler on another thread can end it. It is ended with SIGKILL:
/// what it was writing is a temporary file that is removed anyway. Only signalled while not yet reaped (the
/// waiter reaps it; a pid is never signalled after its number could have been reused).
final class ProcessBox: @unchecked Sendable {
    private let lock = NSLock()
    private var pid: pid_t = 0
    private var cancelled = false

    func set(_ pid: pid_t) {
        lock.lock()
        self.pid = pid
        let kill = cancelled
        lock.unlock()
        if kill { _ = Glibc.kill(pid, SIGKILL) }
    }

    /// The process was reaped: its pid may name another process from now on.
    func finished() {
        lock.lock()
        pid = 0
        lock.unlock()
    }

    func terminate() {
        lock.lock()
        cancelled = true
        let pid = self.pid
        lock.unlock()
        if pid > 0 { _ = Glibc.kill(pid, SIGKILL) }
    }
}
