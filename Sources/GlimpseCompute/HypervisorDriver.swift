import Foundation
import GlimpseCore
import Logging

/// A base image the compute service has copied out of the image store: a file a driver may use as a backing file.
public struct BaseImageFile: Sendable, Equatable {
    public var imageID: String
    public var path: String
    /// The qemu format name of the file (raw, qcow2, vmdk, vdi, vpc, vhdx).
    public var format: String
    public var virtualSize: Int64
}

/// What a driver knows about a server: enough to build and run it.
public struct DriverServer: Sendable {
    public var id: String
    public var vcpus: Int64
    public var ramMB: Int64
    /// The boot image's properties (hw_*, os_*), as Nova passes image metadata to its drivers.
    public var imageProperties: [String: String]

    public init(id: String, vcpus: Int64, ramMB: Int64, imageProperties: [String: String]) {
        self.id = id
        self.vcpus = vcpus
        self.ramMB = ramMB
        self.imageProperties = imageProperties
    }
}

/// A failure the driver reports in terms a user can read (it ends up in the server's fault or an API error).
public struct HypervisorError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case unsupported, quiesceUnavailable, noCapacity, failed }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }
}

/// The seam between the server state machine and whatever runs servers. The service decides *whether* an action
/// may happen (vm_state/task_state rules) and records the outcome; the driver only does it.
///
/// Drivers: `OverlayDriver` (qcow2 overlays, no guest CPU) and `QemuDriver` (boots the same disks in QEMU, talks
/// QMP and the guest agent, and implements quiesce and live snapshots).
public protocol HypervisorDriver: Sendable {
    /// A name for logs and docs.
    var name: String { get }
    /// False for drivers that run no guest (the power state is bookkeeping only).
    var runsGuests: Bool { get }

    /// Creates the server's root disk on top of `base`, `sizeBytes` large; returns its path.
    func createRootDisk(for server: DriverServer, base: BaseImageFile, sizeBytes: Int64) async throws -> String
    /// Powers the server on.
    func start(_ server: DriverServer, disk: String) async throws
    /// Powers the server off (a clean shutdown where the driver can do one).
    func stop(_ server: DriverServer, disk: String) async throws
    func reboot(_ server: DriverServer, disk: String, hard: Bool) async throws
    /// The driver's view of the power state; nil when it keeps none for this server.
    func powerState(of serverID: String) async -> PowerState?
    /// After a restart of Glimpse: the recorded power state of a server the driver should take over
    /// (a booting driver would start the guest again when `running`).
    func adopt(_ server: DriverServer, disk: String?, powerState: PowerState) async
    /// Stops the server if needed and removes its disk (no error when there is none).
    func delete(_ server: DriverServer, disk: String?) async throws

    /// Whether `quiesce` can work for this server now (needs a guest agent the driver can reach).
    func canQuiesce(_ server: DriverServer) async -> Bool
    /// Freezes the guest's filesystems; throws `quiesceUnavailable` when it cannot.
    func quiesce(_ server: DriverServer) async throws
    func unquiesce(_ server: DriverServer) async throws

    /// Writes the root disk, flattened (no backing file), as `format` (qcow2 or raw) to `path`.
    func exportDisk(_ server: DriverServer, disk: String, format: String, to path: String) async throws

    /// A running server's disk cannot be read while its guest writes to it: this starts a copy of it, fixed at this
    /// instant, into `path` (qcow2, no backing file) and returns once that instant is fixed, so frozen filesystems
    /// may thaw at once while the data is copied. False when the driver has no running guest to copy from
    /// (`exportDisk` then reads the disk itself).
    func beginPointInTimeCopy(_ server: DriverServer, disk: String, to path: String) async throws -> Bool
    /// Waits until the copy `beginPointInTimeCopy` started is complete.
    func finishPointInTimeCopy(_ server: DriverServer) async throws

    /// Refuses (`noCapacity`) a create of `count` servers of `ramMB` each when this node cannot hold them beside
    /// the servers it already hosts.
    func checkCapacity(adding count: Int, ramMB: Int64, hosted: [DriverServer]) async throws

    /// The end of the server's serial console log, at most `maxBytes`; nil when the driver keeps none.
    func consoleOutput(of serverID: String, maxBytes: Int) async -> String?

    /// Asks the guest agent whether it is up (`guest-ping`); throws when it does not answer.
    func pingGuestAgent(_ server: DriverServer) async throws
    /// Runs `path` with `arguments` in the guest through its agent (`guest-exec`), waiting at most `timeout`.
    func runInGuest(_ server: DriverServer, path: String, arguments: [String], timeout: Duration) async throws
        -> GuestCommandResult

    /// Registers what to call when a guest stops without being asked (it powered itself off, or its QEMU died):
    /// the server id and the power state the guest ended in (`shutdown` or `crashed`). Nova learns the same from
    /// libvirt's lifecycle events.
    func onUnrequestedStop(_ handler: @escaping @Sendable (String, PowerState) async -> Void) async
}

extension HypervisorDriver {
    public func beginPointInTimeCopy(_ server: DriverServer, disk: String, to path: String) async throws -> Bool { false }
    public func finishPointInTimeCopy(_ server: DriverServer) async throws {}
    public func checkCapacity(adding count: Int, ramMB: Int64, hosted: [DriverServer]) async throws {}
    public func consoleOutput(of serverID: String, maxBytes: Int) async -> String? { nil }
    /// A driver that runs no guest has no guest that could stop by itself: there is nothing to report.
    public func onUnrequestedStop(_ handler: @escaping @Sendable (String, PowerState) async -> Void) async {}
}

/// The first driver: every server's root disk is a real qcow2 overlay (`qemu-img create -f qcow2 -F <fmt> -b <base>`)
/// sized to the flavor's root disk, but no guest runs: there is no CPU, no memory, no network and no guest agent.
/// Power state is tracked here and recorded by the service (BUILD → ACTIVE, stop → SHUTOFF, start → ACTIVE).
/// A running server's snapshot is therefore crash-consistent (whatever was written to the disk), and quiesce is
/// never available.
public actor OverlayDriver: HypervisorDriver {
    public nonisolated let name = "qcow2-overlay (no guest CPU: disks are real, nothing boots them)"
    public nonisolated let runsGuests = false
    let disks: String
    let scratch: String
    let qemuImg: String
    let logger: Logger
    var power: [String: PowerState] = [:]

    /// `directory` holds the disks (`<directory>/<server id>.qcow2`); `scratch` temporary files.
    public init(directory: String, scratch: String, qemuImg: String = "qemu-img", logger: Logger) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        self.disks = directory
        self.scratch = scratch
        self.qemuImg = qemuImg
        self.logger = logger
    }

    func diskPath(_ id: String) -> String { "\(disks)/\(id).qcow2" }

    func qemu(_ args: [String], limits: Subprocess.Limits) async throws -> Subprocess.Result {
        do {
            return try await Subprocess.run(qemuImg, args, scratch: scratch, limits: limits)
        } catch let f as Subprocess.Failure {
            throw HypervisorError(.failed, f.description)
        }
    }

    public func createRootDisk(for server: DriverServer, base: BaseImageFile, sizeBytes: Int64) async throws -> String {
        let path = diskPath(server.id)
        try? FileManager.default.removeItem(atPath: path)
        // -F: the base's format is given, never probed (a probed raw file could pass as anything).
        _ = try await qemu(
            [
                "create", "-q", "-f", "qcow2", "-F", base.format, "-b", base.path, path,
                String(max(sizeBytes, base.virtualSize)),
            ], limits: .inspect)
        power[server.id] = .shutdown
        logger.info("server \(server.id): root disk is a qcow2 overlay on image \(base.imageID) (\(sizeBytes) bytes)")
        return path
    }

    public func start(_ server: DriverServer, disk: String) async throws {
        guard FileManager.default.fileExists(atPath: disk) else {
            throw HypervisorError(.failed, "the root disk of server \(server.id) is missing")
        }
        power[server.id] = .running
    }

    public func stop(_ server: DriverServer, disk: String) async throws { power[server.id] = .shutdown }

    public func reboot(_ server: DriverServer, disk: String, hard: Bool) async throws {
        try await start(server, disk: disk)
    }

    public func powerState(of serverID: String) async -> PowerState? { power[serverID] }

    public func adopt(_ server: DriverServer, disk: String?, powerState: PowerState) async {
        power[server.id] = powerState
    }

    public func delete(_ server: DriverServer, disk: String?) async throws {
        power[server.id] = nil
        for p in Set([diskPath(server.id)] + (disk.map { [$0] } ?? [])) {
            if FileManager.default.fileExists(atPath: p) { try FileManager.default.removeItem(atPath: p) }
        }
    }

    public func canQuiesce(_ server: DriverServer) async -> Bool { false }

    public func quiesce(_ server: DriverServer) async throws {
        throw HypervisorError(
            .quiesceUnavailable,
            "the guest agent of instance \(server.id) is not reachable: the \(name) driver runs no guest")
    }

    public func unquiesce(_ server: DriverServer) async throws {}

    public func exportDisk(_ server: DriverServer, disk: String, format: String, to path: String) async throws {
        _ = try await qemu(["convert", "-q", "-f", "qcow2", "-O", format, disk, path], limits: .convert)
    }

    public func pingGuestAgent(_ server: DriverServer) async throws {
        throw HypervisorError(.unsupported, "the \(name) driver runs no guests: there is no guest agent to ask")
    }

    public func runInGuest(_ server: DriverServer, path: String, arguments: [String], timeout: Duration) async throws
        -> GuestCommandResult
    {
        throw HypervisorError(.unsupported, "the \(name) driver runs no guests: nothing can run in one")
    }
}
