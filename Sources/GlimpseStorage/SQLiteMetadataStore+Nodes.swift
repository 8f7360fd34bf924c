import GRDB
import GlimpseCore

/// Node leases and work claims on SQLite. One process owns a SQLite store (the data-directory lock), so there is
/// one node; the tables still exist so recovery runs the same code on every backend.
extension SQLiteMetadataStore {
    static func registerNodeMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("v4-node-leases") { db in
            try db.execute(
                sql: """
                    CREATE TABLE node_leases (
                        node TEXT PRIMARY KEY NOT NULL,
                        address TEXT NOT NULL,
                        heartbeat_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE image_work (
                        image_id TEXT PRIMARY KEY NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                        node TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE quota_holds (
                        project TEXT NOT NULL,
                        node TEXT NOT NULL,
                        bytes INTEGER NOT NULL,
                        version INTEGER NOT NULL,
                        PRIMARY KEY (project, node)
                    ) WITHOUT ROWID;
                    """)
        }
    }

    public func publishQuotaHold(project: String, node: String, bytes: Int64, version: Int64) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO quota_holds (project, node, bytes, version) VALUES (?, ?, ?, ?)
                    ON CONFLICT (project, node) DO UPDATE SET bytes = excluded.bytes, version = excluded.version
                    WHERE quota_holds.version < excluded.version
                    """, arguments: [project, node, bytes, version])
        }
    }

    public func quotaHeldByOtherNodes(project: String, node: String, aliveSince: Timestamp) async throws -> Int64 {
        try await pool.read { db in
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(h.bytes), 0) FROM quota_holds h JOIN node_leases l ON l.node = h.node
                    WHERE h.project = ? AND h.node <> ? AND l.heartbeat_at >= ?
                    """, arguments: [project, node, aliveSince.microseconds]) ?? 0
        }
    }

    public func clearQuotaHolds(node: String) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM quota_holds WHERE node = ?", arguments: [node]) }
    }

    public func heartbeat(_ lease: NodeLease) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO node_leases (node, address, heartbeat_at) VALUES (?, ?, ?)
                    ON CONFLICT (node) DO UPDATE SET address = excluded.address, heartbeat_at = excluded.heartbeat_at
                    """, arguments: [lease.node, lease.address, lease.heartbeatAt.microseconds])
        }
    }

    public func nodeLeases() async throws -> [NodeLease] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT node, address, heartbeat_at FROM node_leases ORDER BY node").map {
                NodeLease(node: $0["node"], address: $0["address"], heartbeatAt: Timestamp(microseconds: $0["heartbeat_at"]))
            }
        }
    }

    public func claimWork(imageID: String, node: String) async throws {
        try await pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM images WHERE id = ?", arguments: [imageID]) == true else {
                throw GlimpseError.noImage(imageID)
            }
            try db.execute(
                sql: "INSERT INTO image_work (image_id, node) VALUES (?, ?) ON CONFLICT (image_id) DO UPDATE SET node = excluded.node",
                arguments: [imageID, node])
        }
    }

    public func releaseWork(imageID: String, node: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM image_work WHERE image_id = ? AND node = ?", arguments: [imageID, node])
        }
    }

    public func workClaims() async throws -> [String: String] {
        try await pool.read { db in
            var claims: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT image_id, node FROM image_work") {
                claims[row["image_id"]] = row["node"]
            }
            return claims
        }
    }
}
