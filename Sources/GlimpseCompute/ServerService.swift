import Foundation
import GlimpseCore
import GlimpseImageAPI
import GlimpseStorage
import Logging

/// Who may do what with servers and flavors: Nova's default (secure RBAC) policies, simplified to roles.
/// Reads need reader, member or admin; changes need member or admin; flavor management and `all_tenants` need admin.
/// Nova's default rules, with `enforce_scope`: every rule here is project-scoped, so a system- or domain-scoped
/// token is refused (403 "Policy doesn't allow ..."), whatever its roles.
enum ComputePolicy {
    static func canRead(_ c: Caller) -> Bool { isAdmin(c) || (c.scope == .project && (c.hasRole("member") || c.hasRole("reader"))) }
    static func canWrite(_ c: Caller) -> Bool { isAdmin(c) || (c.scope == .project && c.hasRole("member")) }
    static func isAdmin(_ c: Caller) -> Bool { c.scope == .project && c.isAdmin }

    static func enforce(_ rule: String, _ allowed: Bool) throws {
        guard allowed else { throw GlimpseError.forbidden("Policy doesn't allow \(rule) to be performed.") }
    }
}

/// A parsed `POST /servers` body.
public struct ServerCreateRequest: Sendable {
    public var name: String
    public var imageRef: String
    public var flavorRef: String
    public var metadata: [String: String] = [:]
    public var description: String?
    public var count: Int = 1
    /// The names Nova records as owner_user_name / owner_project_name (keystonemiddleware's X-User-Name and
    /// X-Project-Name; the ids when absent).
    public var userName: String
    public var projectName: String

    public init(
        name: String, imageRef: String, flavorRef: String, metadata: [String: String] = [:], description: String? = nil,
        count: Int = 1, userName: String, projectName: String
    ) {
        self.name = name
        self.imageRef = imageRef
        self.flavorRef = flavorRef
        self.metadata = metadata
        self.description = description
        self.count = count
        self.userName = userName
        self.projectName = projectName
    }
}

/// Filters of `GET /servers` and `/servers/detail`.
public struct ServerListQuery: Sendable {
    public var name: String?
    public var status: String?
    public var image: String?
    public var flavor: String?
    public var allTenants = false
    public var projectID: String?
    public var deleted = false
    public var limit: Int?
    public var marker: String?
    public var changesSince: Int64?
}

/// How consistent a snapshot's data is (recorded on the image as `glimpse_consistency`).
public enum SnapshotConsistency: String, Sendable {
    /// The server was powered off.
    case cold
    /// The guest's filesystems were frozen through its agent while the disk was copied.
    case quiesced
    /// The server was running and nothing was frozen: as if the power had been cut.
    case crash
}

/// The compute domain service: flavors, the server state machine (vm_state, task_state, power_state) and the
/// long actions (build, power, snapshot) it runs as tracked background tasks through a `HypervisorDriver`.
public final class ServerService: Sendable {
    public let store: any ComputeStore
    let images: ImageService
    public let driver: any HypervisorDriver
    let cache: BaseImageCache
    let tasks = TaskTracker()
    let bootTests = BootTestRegistry()
    let snapshotFormat: String
    let scratch: String
    let logger: Logger
    static let systemCaller = Caller(userID: "glimpse-compute", projectID: nil, roles: ["admin", "member", "reader"])

    /// `directory` is the compute data directory (base files in `base/`, temporary files in `tmp/`).
    public init(
        store: any ComputeStore, images: ImageService, driver: any HypervisorDriver, directory: String,
        snapshotFormat: String = "qcow2", logger: Logger
    ) throws {
        guard ["qcow2", "raw"].contains(snapshotFormat) else {
            throw GlimpseError.badRequest("snapshot format must be qcow2 or raw, not \(snapshotFormat)")
        }
        self.store = store
        self.images = images
        self.driver = driver
        self.scratch = directory + "/tmp"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        self.cache = try BaseImageCache(
            directory: directory + "/base", scratch: scratch, store: store, images: images, logger: logger)
        self.snapshotFormat = snapshotFormat
        self.logger = logger
    }

    static func notFound(_ id: String) -> GlimpseError { .notFound("Instance \(id) could not be found.") }

    func driverServer(_ s: ServerRecord) -> DriverServer {
        var props: [String: String] = [:]
        for (k, v) in s.systemMetadata where k.hasPrefix("image_") { props[String(k.dropFirst(6))] = v }
        return DriverServer(id: s.id, vcpus: s.flavor.vcpus, ramMB: s.flavor.ram, imageProperties: props)
    }

    // MARK: flavors

    public func flavors(isPublic: Bool?, minRAM: Int64?, minDisk: Int64?, caller: Caller) async throws -> [Flavor] {
        let all = try await store.flavors().sorted { $0.id < $1.id }
        return all.filter { f in
            if !caller.isAdmin, !f.isPublic { return false }
            if caller.isAdmin, let isPublic, f.isPublic != isPublic { return false }
            if let minRAM, f.ram < minRAM { return false }
            if let minDisk, f.disk < minDisk { return false }
            return true
        }
    }

    public func flavor(_ id: String, caller: Caller) async throws -> Flavor {
        guard let f = try await store.flavor(id: id), f.isPublic || caller.isAdmin else {
            throw GlimpseError.notFound("Flavor \(id) could not be found.")
        }
        return f
    }

    public func createFlavor(_ flavor: Flavor, caller: Caller) async throws -> Flavor {
        try ComputePolicy.enforce("os_compute_api:os-flavor-manage:create", ComputePolicy.isAdmin(caller))
        try await store.insertFlavor(flavor)
        logger.info("created flavor \(flavor.id) (\(flavor.name))")
        return flavor
    }

    public func deleteFlavor(_ id: String, caller: Caller) async throws {
        try ComputePolicy.enforce("os_compute_api:os-flavor-manage:delete", ComputePolicy.isAdmin(caller))
        guard try await store.deleteFlavor(id: id) else { throw GlimpseError.notFound("Flavor \(id) could not be found.") }
        logger.info("deleted flavor \(id)")
    }

    // MARK: reading servers

    /// The server if the caller may see it (its project, or any for admins); 404 otherwise, as Nova does.
    public func server(_ id: String, caller: Caller) async throws -> ServerRecord {
        try ComputePolicy.enforce("os_compute_api:servers:show", ComputePolicy.canRead(caller))
        guard let s = try await store.server(id: id), caller.isAdmin || caller.actsFor(s.projectID) else {
            throw Self.notFound(id)
        }
        return s
    }

    public func list(_ q: ServerListQuery, detail: Bool, caller: Caller, version: APIVersion) async throws -> [ServerRecord] {
        try ComputePolicy.enforce(
            detail ? "os_compute_api:servers:detail" : "os_compute_api:servers:index", ComputePolicy.canRead(caller))
        var q = q
        if q.projectID != nil, q.projectID != caller.projectID { q.allTenants = true }
        if q.allTenants {
            try ComputePolicy.enforce("os_compute_api:servers:index:get_all_tenants", caller.isAdmin)
        }
        if let st = q.status?.uppercased(), !ServerRules.knownStatuses.contains(st), version >= APIVersion(2, 38) {
            throw GlimpseError.badRequest("Invalid status value")
        }
        if q.deleted, caller.isAdmin { return [] }  // deleted servers are not kept
        // Compiled before any work: a pattern outside the linear-time subset is a 400.
        let namePattern = try q.name.map(NamePattern.init)
        var servers = try await store.servers(projectID: q.allTenants ? q.projectID : (caller.projectID ?? ""))
        if let namePattern { servers = servers.filter { namePattern.matches($0.name) } }
        if let st = q.status?.uppercased() {
            servers = servers.filter { ServerRules.status(vmState: $0.vmState, taskState: $0.taskState) == st }
        }
        if let image = q.image.map(Self.lastSegment) { servers = servers.filter { $0.imageID == image } }
        if let flavor = q.flavor.map(Self.lastSegment) { servers = servers.filter { $0.flavor.id == flavor } }
        if let since = q.changesSince { servers = servers.filter { $0.updatedAt >= since } }
        if let marker = q.marker {
            guard let i = servers.firstIndex(where: { $0.id == marker }) else {
                throw GlimpseError.badRequest("marker [\(marker)] not found")
            }
            servers = Array(servers[(i + 1)...])
        }
        servers = Array(servers.prefix(min(q.limit ?? Self.maxListLimit, Self.maxListLimit)))
        return servers
    }

    /// Nova's `api.max_limit`: no list answers more servers than this, whatever `limit` asks.
    public static let maxListLimit = 1000

    static func lastSegment(_ ref: String) -> String {
        ref.split(separator: "/").last.map(String.init) ?? ref
    }

    // MARK: create and delete

    public func create(_ req: ServerCreateRequest, caller: Caller) async throws -> [ServerRecord] {
        try ComputePolicy.enforce("os_compute_api:servers:create", ComputePolicy.canWrite(caller))
        guard let project = caller.projectID else {
            throw GlimpseError.badRequest("A server needs a project: the token is not scoped to one.")
        }
        let flavorID = Self.lastSegment(req.flavorRef)
        guard let flavor = try await store.flavor(id: flavorID), flavor.isPublic || caller.isAdmin, !flavor.disabled else {
            throw GlimpseError.badRequest("Flavor \(flavorID) could not be found.")
        }
        let imageID = Self.lastSegment(req.imageRef)
        let image: Image
        do {
            image = try await images.visibleImage(imageID, caller: caller)
        } catch let e as GlimpseError where e.kind == .notFound {
            throw GlimpseError.badRequest("Image \(imageID) could not be found.")
        }
        guard image.status == .active else { throw GlimpseError.badRequest("Image \(image.id) is not active.") }
        guard BaseImageCache.qemuFormat(image.diskFormat) != nil else {
            throw GlimpseError.badRequest(
                "Image \(image.id) has disk_format \(image.diskFormat ?? "None"), which the \(driver.name) driver cannot use as a root disk.")
        }
        let gib: Int64 = 1 << 30
        var imageBytes = image.virtualSize ?? image.size ?? 0
        switch await cache.knownVerdict(image.id) {
        case .refused(let why)?: throw GlimpseError.badRequest(BaseImageCache.refusal(image.id, why).message)
        case .accepted(let size?)?: imageBytes = max(imageBytes, size)
        default: break
        }
        if flavor.disk > 0 {
            do {
                try Self.checkFlavorDisk(flavor, imageBytes: imageBytes)
            } catch let e as HypervisorError {
                throw GlimpseError.badRequest(e.message)
            }
            if image.minDisk > flavor.disk {
                throw GlimpseError.badRequest(
                    "Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is \(flavor.disk * gib) bytes, minimum size is \(image.minDisk * gib) bytes.")
            }
        }
        if image.minRAM > flavor.ram { throw GlimpseError.badRequest("Flavor's memory is too small for requested image.") }

        // Nova's system metadata (compute/utils.py get_system_metadata_from_image, api.py _populate_instance_for_create).
        var sys: [String: String] = [:]
        for (k, v) in image.properties { sys["image_" + k] = v }
        sys["image_min_ram"] = String(image.minRAM)
        sys["image_min_disk"] = String(max(image.minDisk, flavor.disk))
        if let d = image.diskFormat { sys["image_disk_format"] = d }
        if let c = image.containerFormat { sys["image_container_format"] = c }
        sys["image_base_image_ref"] = image.id
        sys["owner_user_name"] = req.userName
        sys["owner_project_name"] = req.projectName
        sys["boot_roles"] = caller.roles.sorted().joined(separator: ",")

        let hosted = try await store.servers(projectID: nil).filter(runsHere).map(driverServer)
        do {
            try await driver.checkCapacity(adding: max(1, req.count), ramMB: flavor.ram, hosted: hosted)
        } catch let e as HypervisorError where e.kind == .noCapacity {
            throw GlimpseError.conflict(e.message)
        }

        var created: [ServerRecord] = []
        let now = NovaTime.now()
        for i in 1...max(1, req.count) {
            let record = ServerRecord(
                id: UUID().uuidString.lowercased(), name: req.count > 1 ? "\(req.name)-\(i)" : req.name,
                description: req.description, projectID: project, userID: caller.userID, imageID: image.id,
                flavor: flavor, vmState: VMState.building, taskState: TaskState.scheduling,
                powerState: PowerState.noState, metadata: req.metadata, systemMetadata: sys,
                createdAt: now, updatedAt: now, host: images.node.nodeID)
            let s = try await store.insertServer(record)
            created.append(s)
            logger.info("server \(s.id) (\(s.name)) building from image \(image.id), flavor \(flavor.name)")
            await tasks.run(s.id) { [self] in await self.build(s, image: image, caller: caller) }
        }
        return created
    }

    func build(_ s: ServerRecord, image: Image, caller: Caller) async {
        let ds = driverServer(s)
        do {
            _ = try await store.updateServer(id: s.id) {
                guard $0.vmState == VMState.building else { throw CancellationError() }
                $0.taskState = TaskState.spawning
                $0.updatedAt = NovaTime.now()
            }
            let base = try await cache.ensure(image, caller: caller)
            try Task.checkCancellation()
            // The inspected virtual size, which the image record may lack (VMDK) or understate.
            try Self.checkFlavorDisk(s.flavor, imageBytes: base.virtualSize)
            let size = s.flavor.disk > 0 ? s.flavor.disk << 30 : base.virtualSize
            let disk = try await driver.createRootDisk(for: ds, base: base, sizeBytes: size)
            _ = try await store.updateServer(id: s.id) { $0.diskPath = disk }
            try Task.checkCancellation()
            try await driver.start(ds, disk: disk)
            _ = try await store.updateServer(id: s.id) {
                guard $0.taskState == TaskState.spawning else { throw CancellationError() }
                let now = NovaTime.now()
                $0.vmState = VMState.active
                $0.taskState = nil
                $0.powerState = PowerState.running
                $0.launchedAt = now
                $0.updatedAt = now
            }
            logger.info("server \(s.id) is ACTIVE (driver \(driver.name))")
        } catch {
            if error is CancellationError || Task.isCancelled { return }
            let message = Self.describe(error)
            logger.error("server \(s.id) failed to build: \(message)")
            _ = try? await store.updateServer(id: s.id) {
                let now = NovaTime.now()
                $0.vmState = VMState.error
                $0.taskState = nil
                $0.powerState = PowerState.noState
                $0.faultMessage = "Build of instance \(s.id) aborted: \(message)"
                $0.faultCode = 500
                $0.faultAt = now
                $0.updatedAt = now
            }
        }
    }

    /// The user-facing text of an error, for faults and logs: host paths are replaced, whatever produced it.
    /// Nova's FlavorDiskSmallerThanImage (a flavor disk of 0 takes the image's size).
    static func checkFlavorDisk(_ flavor: Flavor, imageBytes: Int64) throws {
        let flavorBytes = flavor.disk.multipliedReportingOverflow(by: 1 << 30)
        guard flavor.disk > 0, !flavorBytes.overflow, imageBytes > flavorBytes.partialValue else { return }
        throw HypervisorError(
            .unsupported,
            "Flavor's disk is too small for requested image. Flavor disk is \(flavorBytes.partialValue) bytes, image is \(imageBytes) bytes.")
    }

    static func describe(_ error: any Error) -> String {
        let text =
            switch error {
            case let e as GlimpseError: e.message
            case let e as HypervisorError: e.message
            default: String(describing: error)
            }
        return HostPaths.redact(text)
    }

    public func delete(_ id: String, caller: Caller) async throws {
        let s = try await server(id, caller: caller)
        try ComputePolicy.enforce("os_compute_api:servers:delete", ComputePolicy.canWrite(caller))
        _ = try await store.updateServer(id: s.id) {
            $0.taskState = TaskState.deleting
            $0.updatedAt = NovaTime.now()
        }
        await tasks.cancelAndWait(s.id)
        try await finishDelete(s.id)
    }

    func finishDelete(_ id: String) async throws {
        guard let s = try await store.server(id: id) else { return }
        try await driver.delete(driverServer(s), disk: s.diskPath)
        if let image = s.snapshotImageID { await discardSnapshotImage(image) }
        _ = try await store.deleteServer(id: id)
        await cache.release(s.imageID)
        logger.info("deleted server \(id) and its disk")
    }

    // MARK: power actions

    public func stop(_ id: String, caller: Caller) async throws {
        try await powerAction(
            id, caller: caller, rule: "os_compute_api:servers:stop", check: ServerRules.checkStop,
            task: TaskState.poweringOff
        ) { ds, disk in
            try await self.driver.stop(ds, disk: disk)
            return (VMState.stopped, .shutdown)
        }
    }

    public func start(_ id: String, caller: Caller) async throws {
        try await powerAction(
            id, caller: caller, rule: "os_compute_api:servers:start", check: ServerRules.checkStart,
            task: TaskState.poweringOn
        ) { ds, disk in
            try await self.driver.start(ds, disk: disk)
            return (VMState.active, .running)
        }
    }

    public func reboot(_ id: String, hard: Bool, caller: Caller) async throws {
        try await powerAction(
            id, caller: caller, rule: "os_compute_api:servers:reboot", check: { try ServerRules.checkReboot($0, hard: hard) },
            task: hard ? TaskState.rebootingHard : TaskState.rebooting
        ) { ds, disk in
            try await self.driver.reboot(ds, disk: disk, hard: hard)
            return (VMState.active, .running)
        }
    }

    func powerAction(
        _ id: String, caller: Caller, rule: String, check: @escaping @Sendable (ServerRecord) throws -> Void, task: TaskState,
        work: @escaping @Sendable (DriverServer, String) async throws -> (VMState, PowerState)
    ) async throws {
        let s = try await server(id, caller: caller)
        try ComputePolicy.enforce(rule, ComputePolicy.canWrite(caller))
        let updated = try await store.updateServer(id: s.id) {
            try check($0)
            $0.taskState = task
            $0.updatedAt = NovaTime.now()
        }
        await tasks.run(s.id) { [self] in
            do {
                guard let disk = updated.diskPath else {
                    throw HypervisorError(.failed, "server \(s.id) has no root disk")
                }
                let (vm, power) = try await work(driverServer(updated), disk)
                _ = try await store.updateServer(id: s.id) {
                    guard $0.taskState == task else { return }
                    $0.vmState = vm
                    $0.powerState = power
                    $0.taskState = nil
                    $0.updatedAt = NovaTime.now()
                }
                logger.info("server \(s.id): \(task) done, vm_state \(vm)")
            } catch {
                logger.error("server \(s.id): \(task) failed: \(Self.describe(error))")
                _ = try? await store.updateServer(id: s.id) {
                    guard $0.taskState == task else { return }
                    $0.taskState = nil
                    $0.updatedAt = NovaTime.now()
                }
            }
        }
    }

    /// `os-getConsoleOutput`: the last `lines` lines of the server's serial console (all when nil), read from at
    /// most `ConsoleLog.maxBytes` at the end of the log.
    public func consoleOutput(_ id: String, lines: Int?, caller: Caller) async throws -> String {
        let s = try await server(id, caller: caller)
        try ComputePolicy.enforce("os_compute_api:os-console-output", ComputePolicy.canWrite(caller))
        guard let text = await driver.consoleOutput(of: s.id, maxBytes: ConsoleLog.maxBytes) else {
            throw GlimpseError.conflict(
                "Guest does not have a console available: the \(driver.name) driver runs no guest, so there is no console.")
        }
        return ConsoleLog.lastLines(text, lines)
    }

    /// Waits until the server's background work has ended (tests, orderly shutdown).
    public func waitIdle(_ id: String) async { await tasks.waitIdle(id) }

    /// Cancels all background work and waits for it: snapshots in flight end as failed (image deleted,
    /// task state cleared).
    public func shutdown() async { await tasks.shutdown() }
}
