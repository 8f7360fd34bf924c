// GlimpsePostgresTesting gives test targets a private PostgreSQL cluster: created in a temporary directory on first
// use, reachable only through a Unix socket there, one fresh database per caller, stopped when the process exits.

import Foundation
import PostgresNIO
import Synchronization

/// The process's private PostgreSQL cluster. `initdb` and `postgres` refuse to run as root, so under root they
/// run as the `postgres` user that Debian's package creates, in directories handed over to it.
public actor PostgresTestCluster {
    public static let shared = PostgresTestCluster()

    /// The superuser `initdb` creates; connections over the private socket are trusted.
    public static let username = "glimpse"

    private struct Running {
        var binaries: String
        var root: String
        var socketDirectory: String
    }

    private var running: Running?

    /// The postmaster's pid and the cluster's directory, for the exit handler (which cannot reach the actor).
    private static let toStop = Mutex<(pid: pid_t, root: String)?>(nil)

    /// A new, empty database in the cluster, starting the cluster on first use.
    public func makeDatabase() throws -> PostgresTestDatabase {
        let cluster = try running ?? start()
        let name = "glimpse_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try Self.run(cluster.binaries + "/createdb", ["-h", cluster.socketDirectory, "-U", Self.username, name], asServer: false, in: cluster.root)
        return PostgresTestDatabase(name: name, username: Self.username, socketDirectory: cluster.socketDirectory)
    }

    private func start() throws -> Running {
        let binaries = try Self.newestBinaries()
        let root = NSTemporaryDirectory() + "glimpse-pg-" + UUID().uuidString.prefix(8)
        let cluster = Running(binaries: binaries, root: root, socketDirectory: root + "/socket")
        try FileManager.default.createDirectory(atPath: cluster.socketDirectory, withIntermediateDirectories: true)
        try Self.handOver([root, cluster.socketDirectory])
        let data = root + "/data"
        try Self.run(
            binaries + "/initdb",
            ["-D", data, "-U", Self.username, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            asServer: true, in: root)
        try Self.run(
            binaries + "/pg_ctl",
            [
                "-D", data, "-l", root + "/server.log", "-w", "start", "-o",
                "-c listen_addresses='' -c unix_socket_directories='\(cluster.socketDirectory)' -c max_connections=400 -c fsync=off",
            ],
            asServer: true, in: root)
        let pidLine = try String(contentsOfFile: data + "/postmaster.pid", encoding: .utf8).split(separator: "\n").first
        guard let pid = pidLine.flatMap({ pid_t($0) }) else {
            throw PostgresTestClusterError("no pid in \(data)/postmaster.pid")
        }
        Self.toStop.withLock { $0 = (pid, root) }
        atexit { PostgresTestCluster.stopAtExit() }
        running = cluster
        return cluster
    }

    /// Fast shutdown (SIGINT) of the postmaster by pid, then removal of its directory once it is gone.
    private static func stopAtExit() {
        guard let (pid, root) = toStop.withLock({ $0 }) else { return }
        kill(pid, SIGINT)
        for _ in 0..<200 where kill(pid, 0) == 0 { usleep(50_000) }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// `/usr/lib/postgresql/<major>/bin` of the newest installed major version.
    static func newestBinaries() throws -> String {
        let base = "/usr/lib/postgresql"
        let majors = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).compactMap { Int($0) }
        for major in majors.sorted(by: >) where FileManager.default.isExecutableFile(atPath: "\(base)/\(major)/bin/initdb") {
            return "\(base)/\(major)/bin"
        }
        throw PostgresTestClusterError(
            "PostgreSQL is not installed (no \(base)/<major>/bin/initdb): run scripts/install-prerequisites")
    }

    /// Under root, the server's directories must belong to the unprivileged user it will run as.
    private static func handOver(_ paths: [String]) throws {
        guard getuid() == 0 else { return }
        guard let user = getpwnam("postgres") else {
            throw PostgresTestClusterError("running as root but there is no 'postgres' user: run scripts/install-prerequisites")
        }
        for path in paths where chown(path, user.pointee.pw_uid, user.pointee.pw_gid) != 0 {
            throw PostgresTestClusterError("chown \(path) failed: errno \(errno)")
        }
    }

    /// Runs a tool to completion with its output in the cluster's `tools.log`. posix_spawn and waitpid rather
    /// than Foundation's `Process`, whose `waitUntilExit` was seen to hang in the test process.
    private static func run(_ tool: String, _ arguments: [String], asServer: Bool, in directory: String) throws {
        // `env -C` starts the tool in the cluster's directory, which the `postgres` user can enter (the caller's
        // working directory may be closed to it).
        let command = ["/usr/bin/env", "-C", directory, tool] + arguments
        let argv = asServer && getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + command : command
        let log = directory + "/tools.log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw PostgresTestClusterError("cannot start \(argv[0]): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED && WEXITSTATUS == 0, spelled out: the C macros are not imported.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw PostgresTestClusterError("\(argv.joined(separator: " ")) failed (status \(status)): \(output.suffix(2000))")
        }
    }
}
