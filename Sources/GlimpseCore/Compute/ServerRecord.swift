// The Compute API's domain records, as the compute service and every compute store exchange them.

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
    public var vmState: VMState
    /// Nova's task_state, nil when no task runs.
    public var taskState: TaskState?
    /// Nova's power_state number: 0 NOSTATE, 1 RUNNING, 3 PAUSED, 4 SHUTDOWN, 6 CRASHED, 7 SUSPENDED.
    public var powerState: PowerState
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
    /// The node that runs the server (Nova's compute host): its disk and guest live there, so actions on it go
    /// there. Nil for servers recorded before nodes had ids (the only node's).
    public var host: String?

    public init(
        id: String, serial: Int64 = 0, name: String, description: String? = nil, projectID: String, userID: String,
        imageID: String, flavor: Flavor, vmState: VMState, taskState: TaskState?, powerState: PowerState,
        metadata: [String: String] = [:], systemMetadata: [String: String] = [:], createdAt: Int64, updatedAt: Int64,
        launchedAt: Int64? = nil, faultMessage: String? = nil, faultCode: Int? = nil, faultAt: Int64? = nil,
        snapshotImageID: String? = nil, diskPath: String? = nil, locked: Bool = false, host: String? = nil
    ) {
        self.host = host
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
