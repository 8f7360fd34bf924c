import GlimpseCore
import GlimpseStorage
import PostgresNIO

/// Grants of roles to users on domains and on the system, stored as (target_type, target_id) with
/// ("system", "all") for the system, as in the SQLite store.
extension PostgresIdentityStore {
    static func columns(_ target: IdentityTargetAssignment.Target) -> (type: String, id: String) {
        switch target {
        case .system: ("system", "all")
        case .domain(let id): ("domain", id)
        }
    }

    public func targetAssignments(
        userID: String?, target: IdentityTargetAssignment.Target?, roleID: String?
    ) async throws -> [IdentityTargetAssignment] {
        let columns = target.map(Self.columns)
        let type = columns?.type
        let targetID = columns?.id
        return try await read { db in
            var result: [IdentityTargetAssignment] = []
            for try await (user, type, id, role) in try await db.query(
                """
                SELECT user_id, target_type, target_id, role_id FROM identity_target_assignments
                WHERE (\(userID)::text IS NULL OR user_id = \(userID))
                    AND (\(type)::text IS NULL OR (target_type = \(type) AND target_id = \(targetID)))
                    AND (\(roleID)::text IS NULL OR role_id = \(roleID))
                ORDER BY target_type, target_id, user_id, role_id
                """, logger: logger
            ).decode((String, String, String, String).self) {
                switch type {
                case "system": result.append(IdentityTargetAssignment(userID: user, target: .system, roleID: role))
                case "domain": result.append(IdentityTargetAssignment(userID: user, target: .domain(id), roleID: role))
                default: continue
                }
            }
            return result
        }
    }

    public func grant(_ a: IdentityTargetAssignment) async throws -> Bool {
        let (type, id) = Self.columns(a.target)
        return try await storing("role assignment") { db in
            try await lockTarget(type: type, id: id, on: db)
            return try await !db.query(
                """
                INSERT INTO identity_target_assignments (user_id, target_type, target_id, role_id)
                VALUES (\(a.userID), \(type), \(id), \(a.roleID)) ON CONFLICT DO NOTHING RETURNING user_id
                """, logger: logger
            ).collect().isEmpty
        }
    }

    public func revoke(_ a: IdentityTargetAssignment) async throws -> Bool {
        let (type, id) = Self.columns(a.target)
        return try await changed(
            "role assignment",
            """
            DELETE FROM identity_target_assignments WHERE user_id = \(a.userID) AND target_type = \(type)
                AND target_id = \(id) AND role_id = \(a.roleID) RETURNING user_id
            """)
    }
}
