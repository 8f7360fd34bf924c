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
    /// Other nodes may share the metadata store (PostgreSQL): quota holds are published to them.
    public var sharesStore: Bool

    public init(nodeID: String, address: String, lease: Duration = .seconds(30), sharesStore: Bool = true) {
        self.nodeID = nodeID
        self.address = address
        self.lease = lease
        self.sharesStore = sharesStore
    }

    /// The only node of a deployment (the embedded SQLite store is never shared).
    public static let single = NodeMembership(nodeID: "local", address: "", sharesStore: false)

    var heartbeatInterval: Duration { lease / 3 }
}
