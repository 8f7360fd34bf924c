// Typed changes to an existing image for callers inside Glimpse.

/// Changes to an image's formats and properties, held to the rules of a JSON-patch `add` of each (formats only
/// while queued, reserved and read-only names refused, property quota).
public struct ImageAmendment: Sendable, Equatable {
    public var diskFormat: String?
    public var containerFormat: String?
    /// Properties to add or replace.
    public var properties: [String: String]

    public init(diskFormat: String? = nil, containerFormat: String? = nil, properties: [String: String] = [:]) {
        self.diskFormat = diskFormat
        self.containerFormat = containerFormat
        self.properties = properties
    }
}
