import Foundation
import GlimpseCore

/// Runs a helper program (qemu-img) without blocking a thread: output goes to temporary files, the exit is awaited
/// through the termination handler, and cancelling the calling task terminates the program.
enum Subprocess {
    struct Failure: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var stderr: String
        var description: String { "\(command) exited with status \(status): \(stderr)" }
    }

    struct Result: Sendable {
        var stdout: String
        var stderr: String
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

    /// Runs `executable` with `arguments`; throws `Failure` on a non-zero exit.
    static func run(_ executable: String, _ arguments: [String], scratch: String) async throws -> Result {
        guard let path = executable.hasPrefix("/") ? executable : which(executable) else {
            throw GlimpseError.internalError("\(executable) is not installed (Debian: apt-get install qemu-utils)")
        }
        let token = UUID().uuidString
        let outPath = "\(scratch)/.proc-\(token).out"
        let errPath = "\(scratch)/.proc-\(token).err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let box = ProcessBox()
        let status: Int32 = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Int32, any Error>) in
                let p = Process()
                p.executableURL = URL(fileURLWithPath: path)
                p.arguments = arguments
                p.standardInput = FileHandle.nullDevice
                p.standardOutput = FileHandle(forWritingAtPath: outPath)
                p.standardError = FileHandle(forWritingAtPath: errPath)
                p.terminationHandler = { proc in c.resume(returning: proc.terminationStatus) }
                do {
                    try p.run()
                    box.set(p)
                } catch {
                    c.resume(throwing: GlimpseError.internalError("could not run \(path): \(error)"))
                }
            }
        } onCancel: {
            box.terminate()
        }
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        try Task.checkCancellation()
        guard status == 0 else {
            throw Failure(
                command: ([path] + arguments).joined(separator: " "), status: status,
                stderr: err.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return Result(stdout: out, stderr: err)
    }
}

/// Holds a running process so a cancellation handler on another thread can terminate it.
final class ProcessBox: @unchecked Sendable {
    private let lock = NSLock()
    private var process: Process?
    private var cancelled = false

    func set(_ p: Process) {
        lock.lock()
        process = p
        let kill = cancelled
        lock.unlock()
        if kill { p.terminate() }
    }

    func terminate() {
        lock.lock()
        cancelled = true
        let p = process
        lock.unlock()
        if let p, p.isRunning { p.terminate() }
    }
}
