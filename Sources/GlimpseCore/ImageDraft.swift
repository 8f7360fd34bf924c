// Typed image metadata for callers inside Glimpse (the compute service's snapshots).

/// A new image in Swift terms: what `POST /v2/images` could set, held to the same rules (reserved and read-only
/// names, lengths, quotas, visibility policy) without a JSON body to build and parse again.
public struct ImageDraft: Sendable, Equatable {
    public var name: String?
    public var visibility: Visibility
    public var minRAM: Int64
    public var minDisk: Int64
    public var diskFormat: String?
    public var containerFormat: String?
    /// Extra properties; a base attribute's name here is refused as it would be in a create body.
    public var properties: [String: String]

    public init(
        name: String?, visibility: Visibility = .private, minRAM: Int64 = 0, minDisk: Int64 = 0,
        diskFormat: String? = nil, containerFormat: String? = nil, properties: [String: String] = [:]
    ) {
        self.name = name
        self.visibility = visibility
        self.minRAM = minRAM
        self.minDisk = minDisk
        self.diskFormat = diskFormat
        self.containerFormat = containerFormat
        self.properties = properties
    }
}
