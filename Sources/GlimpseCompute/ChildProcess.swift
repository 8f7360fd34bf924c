#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Starts programs with `posix_spawn` and waits for them, instead of Foundation's `Process`: on Linux its `run()`
/// crashes the whole server now and then (it over-reads `/proc/self/fd` entries while closing descriptors,
/// swift-corelibs-foundation #5472), and a crash reachable from a request is a denial of service.
/// The child gets /dev/null as input, the given files as output, no descriptor of ours beyond 0-2, an empty
/// signal mask and default signal handlers (Swift's threads block signals, which children would inherit).
public enum ChildProcess {
    public struct SpawnError: Error, CustomStringConvertible {
        public var program: String
        public var code: Int32
        public var description: String { "cannot start \(program): \(String(cString: strerror(code)))" }
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), looked up at run time because the Glibc
    /// module leaves it out. Without it a child keeps descriptors opened without O_CLOEXEC.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Starts `argv` (`argv[0]` an absolute path); output goes to the files (appended, created 0600) or nowhere.
    public static func spawn(_ argv: [String], stdout: String? = nil, stderr: String? = nil) throws -> pid_t {
        guard let program = argv.first else { throw SpawnError(program: "", code: EINVAL) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        if let closeFrom = addCloseFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, program, &actions, &attributes, &cArguments, environ)
        guard result == 0 else { throw SpawnError(program: program, code: result) }
        return pid
    }

    /// Waits for `pid` to end, on a thread of its own (never a pool thread); returns its exit status, or 128 plus
    /// the signal that ended it.
    public static func exitStatus(of pid: pid_t) async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let waiter = Thread {
                var status: Int32 = 0
                var result: pid_t
                repeat { result = waitpid(pid, &status, 0) } while result == -1 && errno == EINTR
                guard result == pid else { return continuation.resume(returning: -1) }
                // WIFEXITED / WEXITSTATUS / WTERMSIG spelled out: the C macros are not imported.
                let signal = status & 0x7f
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xff : 128 + signal)
            }
            waiter.name = "glimpse-child-waiter"
            waiter.start()
        }
    }
}
