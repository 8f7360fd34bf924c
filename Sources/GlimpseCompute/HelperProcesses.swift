#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// Pid files of running helper programs (`<scratch>/.helper-<token>.pid`: the pid, then the command line, NUL
/// separated). A helper that outlived a killed Glimpse is found through its file at the next start, checked against
/// `/proc/<pid>/cmdline` (so a reused pid is never signalled), killed and waited for before its output is removed.
enum HelperProcesses {
    static let prefix = ".helper-"
    static let suffix = ".pid"

    static func pidFile(scratch: String, token: String) -> String { "\(scratch)/\(prefix)\(token)\(suffix)" }

    /// Writes the pid file of a just-started helper.
    static func record(pid: Int32, argv: [String], at path: String) {
        let text = "\(pid)\n" + argv.joined(separator: "\0")
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
    }

    /// The recorded pid and command line, or nil when the file is not one of ours.
    static func readPidFile(_ path: String) -> (pid: Int32, argv: [String])? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let newline = text.firstIndex(of: "\n"), let pid = Int32(text[..<newline]), pid > 1 else { return nil }
        let argv = text[text.index(after: newline)...].split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        return (pid, argv)
    }

    /// The live command line of `pid`, nil when there is no such process or it is a zombie (already dead).
    static func liveCommandLine(_ pid: Int32) -> [String]? {
        guard let stat = readProcFile("/proc/\(pid)/stat"), let cmdline = readProcFile("/proc/\(pid)/cmdline") else {
            return nil
        }
        // The state follows the command name in parentheses, which may itself hold spaces or parentheses.
        let statText = String(decoding: stat, as: UTF8.self)
        if cmdline.isEmpty { return nil }  // a kernel thread, or a process being torn down
        if let close = statText.lastIndex(of: ")") {
            let state = statText[statText.index(after: close)...].drop(while: { $0 == " " }).first
            if state == "Z" || state == "X" { return nil }
        }
        var args = String(decoding: cmdline, as: UTF8.self).split(separator: "\0", omittingEmptySubsequences: false)
            .map(String.init)
        if args.last == "" { args.removeLast() }
        return args
    }

    /// The bytes of a /proc file (whose size reads as 0, so it is read to the end), at most 64 KiB.
    static func readProcFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while out.count < 65536 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            out += chunk[0..<n]
        }
        return out
    }

    /// Whether a live command line is the recorded helper: the recorded line is `setpriv … prlimit … program args`,
    /// and each `exec` along that chain leaves a suffix of it.
    static func isRecordedHelper(live: [String], recorded: [String]) -> Bool {
        !live.isEmpty && live.count <= recorded.count && Array(recorded.suffix(live.count)) == live
    }

    /// Start-up: kills every recorded helper that still runs and waits until it is gone, then removes the pid files.
    /// Returns false when a helper would not die (its output must then be left alone).
    static func endLeftovers(scratch: String, logger: Logger) async -> Bool {
        var allGone = true
        for name in (try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []
        where name.hasPrefix(prefix) && name.hasSuffix(suffix) {
            let path = "\(scratch)/\(name)"
            guard let entry = readPidFile(path) else {
                try? FileManager.default.removeItem(atPath: path)
                continue
            }
            let pid = entry.pid, argv = entry.argv
            if let live = liveCommandLine(pid), isRecordedHelper(live: live, recorded: argv) {
                let program = argv.first(where: { $0.hasSuffix("qemu-img") }).map { _ in "qemu-img" } ?? "a helper"
                logger.notice("ending \(program) (pid \(pid)) left running by a previous Glimpse")
                kill(pid, SIGKILL)
                if await waitGone(pid, recorded: argv) {
                    try? FileManager.default.removeItem(atPath: path)
                } else {
                    logger.error("\(program) (pid \(pid)) did not end after SIGKILL; its files are kept")
                    allGone = false
                }
            } else {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        return allGone
    }

    /// Polls until `pid` is no longer the recorded helper (exited, reaped, or a zombie); a process blocked in the
    /// kernel can take a moment to act on SIGKILL, so this waits up to a minute.
    static func waitGone(_ pid: Int32, recorded: [String]) async -> Bool {
        for _ in 0..<6000 {
            guard let live = liveCommandLine(pid), isRecordedHelper(live: live, recorded: recorded) else { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
