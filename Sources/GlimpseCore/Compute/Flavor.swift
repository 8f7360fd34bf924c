// The Compute API's domain records, as the compute service and every compute store exchange them.

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
