import GlimpseCore
import GlimpseStorage
import Logging
import PostgresNIO

// Resource types and namespaces' associations with them. Associations list in insertion order (`position`, an
// identity column standing in for SQLite's rowid). A type named by a new association is created when unknown;
// two nodes creating the same one at once both end up using the one row (ON CONFLICT DO NOTHING, then read).
extension PostgresMetadefStore {
    public func resourceTypes() async throws -> [MetadefResourceTypeRecord] {
        try await client.withConnection { db in
            var result: [MetadefResourceTypeRecord] = []
            let rows = try await db.query(
                "SELECT name, protected, created_at, updated_at FROM metadef_resource_types ORDER BY id", logger: logger)
            for try await (name, protected, createdAt, updatedAt) in rows.decode((String, Bool, Int64, Int64).self) {
                result.append(
                    MetadefResourceTypeRecord(name: name, protected: protected, createdAt: createdAt, updatedAt: updatedAt))
            }
            return result
        }
    }

    /// Associations keyed by namespace id, each list in insertion order.
    func associations(_ query: PostgresQuery, on db: PostgresConnection) async throws -> [Int64: [MetadefAssociationRecord]] {
        var result: [Int64: [MetadefAssociationRecord]] = [:]
        let rows = try await db.query(query, logger: logger)
        for try await (namespaceID, name, prefix, target, createdAt, updatedAt)
            in rows.decode((Int64, String, String?, String?, Int64, Int64).self)
        {
            result[namespaceID, default: []].append(
                MetadefAssociationRecord(
                    name: name, prefix: prefix, propertiesTarget: target, createdAt: createdAt, updatedAt: updatedAt))
        }
        return result
    }

    static let associationSelect = """
        SELECT a.namespace_id, r.name, a.prefix, a.properties_target, a.created_at, a.updated_at
        FROM metadef_namespace_resource_types a JOIN metadef_resource_types r ON r.id = a.resource_type_id
        """

    public func associations(namespaceID: Int64) async throws -> [MetadefAssociationRecord] {
        try await client.withConnection { db in
            try await associations(
                """
                \(unescaped: Self.associationSelect) WHERE a.namespace_id = \(namespaceID)
                ORDER BY a.created_at, a.position
                """, on: db
            )[namespaceID] ?? []
        }
    }

    public func associations(namespaceIDs: [Int64]) async throws -> [Int64: [MetadefAssociationRecord]] {
        if namespaceIDs.isEmpty { return [:] }
        return try await client.withConnection { db in
            try await associations(
                """
                \(unescaped: Self.associationSelect) WHERE a.namespace_id = ANY(\(namespaceIDs))
                ORDER BY a.created_at, a.position
                """, on: db)
        }
    }

    func addAssociation(_ a: MetadefAssociationRecord, namespaceID: Int64, on db: PostgresConnection) async throws {
        let inserted = try await Self.firstID(
            db.query(
                """
                INSERT INTO metadef_resource_types (name, protected, created_at, updated_at)
                VALUES (\(a.name), FALSE, \(a.createdAt), \(a.updatedAt)) ON CONFLICT (name) DO NOTHING RETURNING id
                """, logger: logger))
        let typeID: Int64
        if let inserted {
            typeID = inserted
        } else if let existing = try await Self.firstID(
            db.query("SELECT id FROM metadef_resource_types WHERE name = \(a.name)", logger: logger))
        {
            typeID = existing
        } else {
            throw GlimpseError.internalError("resource type \(a.name) is neither new nor found")
        }
        _ = try await Self.unique(.association, a.name) {
            try await db.query(
                """
                INSERT INTO metadef_namespace_resource_types
                (namespace_id, resource_type_id, prefix, properties_target, created_at, updated_at)
                VALUES (\(namespaceID), \(typeID), \(a.prefix), \(a.propertiesTarget), \(a.createdAt), \(a.updatedAt))
                """, logger: logger)
        }
    }

    public func addAssociation(_ association: MetadefAssociationRecord, namespaceID: Int64) async throws {
        try await transaction { db in try await addAssociation(association, namespaceID: namespaceID, on: db) }
    }

    public func removeAssociation(namespaceID: Int64, resourceType: String) async throws -> Bool {
        try await transaction { db in
            try await Self.firstID(
                db.query(
                    """
                    DELETE FROM metadef_namespace_resource_types WHERE namespace_id = \(namespaceID)
                    AND resource_type_id = (SELECT id FROM metadef_resource_types WHERE name = \(resourceType))
                    RETURNING namespace_id
                    """, logger: logger)) != nil
        }
    }
}
