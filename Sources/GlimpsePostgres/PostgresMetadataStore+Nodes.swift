import GlimpseCore
import GlimpseStorage
import PostgresNIO

/// Node leases and work claims: every node heartbeats here, and records which image it is writing, so a node
/// recovering after a crash (or sweeping for dead nodes) leaves the live nodes' work alone.
extension PostgresMetadataStore {
    public func heartbeat(_ lease: NodeLease) async throws {
        try await transaction { db in
            try await db.query(
                """
                INSERT INTO node_leases (node, address, heartbeat_at)
                VALUES (\(lease.node), \(lease.address), \(lease.heartbeatAt.microseconds))
                ON CONFLICT (node) DO UPDATE SET address = EXCLUDED.address, heartbeat_at = EXCLUDED.heartbeat_at
                """, logger: logger)
        }
    }

    public func nodeLeases() async throws -> [NodeLease] {
        try await read { db in
            var leases: [NodeLease] = []
            for try await (node, address, at) in try await db.query(
                "SELECT node, address, heartbeat_at FROM node_leases ORDER BY node COLLATE \"C\"", logger: logger
            ).decode((String, String, Int64).self) {
                leases.append(NodeLease(node: node, address: address, heartbeatAt: Timestamp(microseconds: at)))
            }
            return leases
        }
    }

    public func claimWork(imageID: String, node: String) async throws {
        try await transaction { db in
            let image = try await db.query("SELECT 1 FROM images WHERE id = \(imageID) FOR UPDATE", logger: logger).collect()
            if image.isEmpty { throw GlimpseError.noImage(imageID) }
            try await db.query(
                """
                INSERT INTO image_work (image_id, node) VALUES (\(imageID), \(node))
                ON CONFLICT (image_id) DO UPDATE SET node = EXCLUDED.node
                """, logger: logger)
        }
    }

    public func releaseWork(imageID: String, node: String) async throws {
        try await transaction { db in
            try await db.query("DELETE FROM image_work WHERE image_id = \(imageID) AND node = \(node)", logger: logger)
        }
    }

    public func workClaims() async throws -> [String: String] {
        try await read { db in
            var claims: [String: String] = [:]
            for try await (image, node) in try await db.query("SELECT image_id, node FROM image_work", logger: logger)
                .decode((String, String).self)
            {
                claims[image] = node
            }
            return claims
        }
    }

    public func publishQuotaHold(project: String, node: String, bytes: Int64, version: Int64) async throws {
        try await transaction { db in
            try await db.query(
                """
                INSERT INTO quota_holds (project, node, bytes, version) VALUES (\(project), \(node), \(bytes), \(version))
                ON CONFLICT (project, node) DO UPDATE SET bytes = EXCLUDED.bytes, version = EXCLUDED.version
                WHERE quota_holds.version < EXCLUDED.version
                """, logger: logger)
        }
    }

    public func quotaHeldByOtherNodes(project: String, node: String, aliveSince: Timestamp) async throws -> Int64 {
        try await read { db in
            var total: Int64 = 0
            for try await sum in try await db.query(
                """
                SELECT COALESCE(SUM(h.bytes), 0)::BIGINT FROM quota_holds h JOIN node_leases l ON l.node = h.node
                WHERE h.project = \(project) AND h.node <> \(node) AND l.heartbeat_at >= \(aliveSince.microseconds)
                """, logger: logger
            ).decode(Int64.self) {
                total = sum
            }
            return total
        }
    }

    public func clearQuotaHolds(node: String) async throws {
        try await transaction { db in try await db.query("DELETE FROM quota_holds WHERE node = \(node)", logger: logger) }
    }
}
