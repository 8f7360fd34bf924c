/// This node among the Glimpse nodes that share one metadata store. Each node heartbeats its lease and claims the
/// images it is writing; a node whose lease ran out is dead, and only what a dead node (or this node before a
/// restart) left unfinished is recovered. Nodes compare their own clocks with the leases: keep them in sync (NTP),
/// as every OpenStack service's heartbeats require.
public struct NodeMembership: Sendable {
    /// Stable across restarts (kept in the node's data directory), unique among the nodes.
    public var nodeID: String
    /// Where the other nodes reach this node's own listener.
    public var address: String
    /// How long a heartbeat keeps a node alive; heartbeats come three times per lease.
    public var lease: Duration

    public init(nodeID: String, address: String, lease: Duration = .seconds(30)) {
        self.nodeID = nodeID
        self.address = address
        self.lease = lease
    }

    /// The only node of a deployment (the embedded SQLite store is never shared).
    public static let single = NodeMembership(nodeID: "local", address: "")

    var heartbeatInterval: Duration { lease / 3 }
}
