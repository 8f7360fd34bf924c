import GlimpseCore

/// A Glimpse node sharing the metadata store, as its last heartbeat recorded it. A node whose heartbeat is older
/// than the lease is dead: what it claimed may be recovered by the others.
public struct NodeLease: Sendable, Equatable {
    public var node: String
    /// Where the other nodes reach this node's own listener (not the load balancer in front of all of them).
    public var address: String
    public var heartbeatAt: Timestamp

    public init(node: String, address: String, heartbeatAt: Timestamp) {
        self.node = node
        self.address = address
        self.heartbeatAt = heartbeatAt
    }
}
