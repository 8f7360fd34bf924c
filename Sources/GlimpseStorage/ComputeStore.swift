import GlimpseCore

/// A flavor: the size of a server (Nova's `flavors` table, with the extensions shown as `OS-FLV-*` on the wire).
public struct Flavor: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    /// Memory in MiB.
    public var ram: Int64
    public var vcpus: Int64
    /// Root disk in GiB (0: the image's own size).
    public var disk: Int64
    public var ephemeral: Int64
    /// Swap in MiB.
    public var swap: Int64
    public var rxtxFactor: Double
    public var isPublic: Bool
    public var disabled: Bool
    public var description: String?
    public var extraSpecs: [String: String]

    public init(
        id: String, name: String, ram: Int64, vcpus: Int64, disk: Int64, ephemeral: Int64 = 0, swap: Int64 = 0,
        rxtxFactor: Double = 1.0, isPublic: Bool = true, disabled: Bool = false, description: String? = nil,
        extraSpecs: [String: String] = [:]
    ) {
        self.id = id
        self.name = name
        self.ram = ram
        self.vcpus = vcpus
        self.disk = disk
        self.ephemeral = ephemeral
        self.swap = swap
        self.rxtxFactor = rxtxFactor
        self.isPublic = isPublic
        self.disabled = disabled
        self.description = description
        self.extraSpecs = extraSpecs
    }

    /// The flavors devstack creates (ids and sizes as devstack's `create_flavors`).
    public static let devstackDefaults: [Flavor] = [
        Flavor(id: "1", name: "m1.tiny", ram: 512, vcpus: 1, disk: 1),
        Flavor(id: "2", name: "m1.small", ram: 2048, vcpus: 1, disk: 20),
        Flavor(id: "3", name: "m1.medium", ram: 4096, vcpus: 2, disk: 40),
        Flavor(id: "4", name: "m1.large", ram: 8192, vcpus: 4, disk: 80),
        Flavor(id: "5", name: "m1.xlarge", ram: 16384, vcpus: 8, disk: 160),
        Flavor(id: "42", name: "m1.nano", ram: 192, vcpus: 1, disk: 1),
        Flavor(id: "84", name: "m1.micro", ram: 256, vcpus: 1, disk: 1),
    ]
}

/// A server (Nova's instance) as Glimpse records it. Timestamps are microseconds since the epoch.
public struct ServerRecord: Sendable, Equatable, Codable {
    public var id: String
    /// A small integer the store assigns (Nova's instance id, shown as `instance-%08x`).
    public var serial: Int64
    public var name: String
    public var description: String?
    public var projectID: String
    public var userID: String
    /// The image the root disk was built from (Nova's `image_ref` / `base_image_ref`).
    public var imageID: String
    /// The flavor as it was at boot (Nova embeds a copy in the instance).
    public var flavor: Flavor
    /// Nova's vm_state: building, active, stopped, error, ...
    public var vmState: String
    /// Nova's task_state, nil when no task runs.
    public var taskState: String?
    /// Nova's power_state number: 0 NOSTATE, 1 RUNNING, 3 PAUSED, 4 SHUTDOWN, 6 CRASHED, 7 SUSPENDED.
    public var powerState: Int
    public var metadata: [String: String]
    /// Nova's system_metadata: `image_*` keys copied from the boot image, owner names, boot roles.
    public var systemMetadata: [String: String]
    public var createdAt: Int64
    public var updatedAt: Int64
    public var launchedAt: Int64?
    /// The message of the last fault (shown as `fault` while the server is in ERROR).
    public var faultMessage: String?
    public var faultCode: Int?
    public var faultAt: Int64?
    /// The image of a snapshot in progress; recovery deletes it when a restart interrupted the snapshot.
    public var snapshotImageID: String?
    /// Where the driver keeps the root disk.
    public var diskPath: String?
    public var locked: Bool

    public init(
        id: String, serial: Int64 = 0, name: String, description: String? = nil, projectID: String, userID: String,
        imageID: String, flavor: Flavor, vmState: String, taskState: String?, powerState: Int,
        metadata: [String: String] = [:], systemMetadata: [String: String] = [:], createdAt: Int64, updatedAt: Int64,
        launchedAt: Int64? = nil, faultMessage: String? = nil, faultCode: Int? = nil, faultAt: Int64? = nil,
        snapshotImageID: String? = nil, diskPath: String? = nil, locked: Bool = false
    ) {
        self.id = id
        self.serial = serial
        self.name = name
        self.description = description
        self.projectID = projectID
        self.userID = userID
        self.imageID = imageID
        self.flavor = flavor
        self.vmState = vmState
        self.taskState = taskState
        self.powerState = powerState
        self.metadata = metadata
        self.systemMetadata = systemMetadata
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.launchedAt = launchedAt
        self.faultMessage = faultMessage
        self.faultCode = faultCode
        self.faultAt = faultAt
        self.snapshotImageID = snapshotImageID
        self.diskPath = diskPath
        self.locked = locked
    }
}

/// Where the Compute API keeps flavors and servers. Every mutation of a server goes through `updateServer`, whose
/// body runs inside one transaction, so a state check and the state change it guards are atomic (compare-and-set).
public protocol ComputeStore: Sendable {
    func flavors() async throws -> [Flavor]
    func flavor(id: String) async throws -> Flavor?
    /// 409 when the id or the name is taken.
    func insertFlavor(_ flavor: Flavor) async throws
    /// False when there was no such flavor.
    func deleteFlavor(id: String) async throws -> Bool

    /// Stores a new server; the returned record carries its serial.
    func insertServer(_ server: ServerRecord) async throws -> ServerRecord
    func server(id: String) async throws -> ServerRecord?
    /// Servers of one project (all when nil), newest first.
    func servers(projectID: String?) async throws -> [ServerRecord]
    /// Runs `body` on the current record in one transaction and stores the result; 404 when the server is gone.
    /// An error thrown by `body` leaves the record unchanged.
    func updateServer(id: String, _ body: @Sendable (inout ServerRecord) throws -> Void) async throws -> ServerRecord
    /// Removes the server; nil when there was none.
    func deleteServer(id: String) async throws -> ServerRecord?
    /// How many servers were built from `imageID` (their disks may depend on its cached base file).
    func serverCount(usingImage imageID: String) async throws -> Int
}
