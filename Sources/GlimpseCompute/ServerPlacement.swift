import GlimpseCore
import GlimpseStorage

/// Where a server runs, seen from this node: servers run on the node that built them (their disk and guest are
/// there), as Nova's instances run on their compute host.
public enum ServerPlacement: Sendable, Equatable {
    case here
    /// On another node, alive by its lease.
    case node(NodeLease)
    /// On another node whose lease ran out.
    case unreachable(node: String)
}

extension ServerService {
    /// True when this node runs the server (servers recorded before nodes had ids belong to the only node).
    func runsHere(_ s: ServerRecord) -> Bool {
        s.host == nil || s.host == images.node.nodeID
    }

    /// The other nodes alive by their leases.
    func otherLiveNodes() async throws -> [NodeLease] {
        var live: [NodeLease] = []
        for lease in try await images.metadata.nodeLeases() where lease.node != images.node.nodeID {
            if let alive = try await images.liveNode(lease.node) { live.append(alive) }
        }
        return live
    }

    public func placement(of s: ServerRecord) async throws -> ServerPlacement {
        guard let host = s.host, !runsHere(s) else { return .here }
        guard let lease = try await images.liveNode(host) else { return .unreachable(node: host) }
        return .node(lease)
    }
}
