import Foundation
import GlimpseCore
import GlimpseStorage
import Logging
import PostgresNIO

// What a namespace holds: objects and properties (listed in creation order, by id) and tags (names unique and
// matched ignoring ASCII case, as SQLite's NOCASE column does: `lower` under the "C" collation folds ASCII only).
extension PostgresMetadefStore {
    // MARK: objects

    static func encodeList(_ list: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(list), as: UTF8.self)
    }

    static let objectColumns = "id, name, description, required, json_schema, created_at, updated_at"

    func objects(_ query: PostgresQuery, on db: PostgresConnection) async throws -> [MetadefObjectRecord] {
        var result: [MetadefObjectRecord] = []
        let rows = try await db.query(query, logger: logger)
        for try await (id, name, description, requiredText, properties, createdAt, updatedAt)
            in rows.decode((Int64, String, String?, String, String, Int64, Int64).self)
        {
            let required = try JSONDecoder().decode([String].self, from: Data(requiredText.utf8))
            result.append(
                MetadefObjectRecord(
                    id: id, name: name, description: description, required: required, properties: properties,
                    createdAt: createdAt, updatedAt: updatedAt))
        }
        return result
    }

    public func objects(namespaceID: Int64) async throws -> [MetadefObjectRecord] {
        try await client.withConnection { db in
            try await objects(
                "SELECT \(unescaped: Self.objectColumns) FROM metadef_objects WHERE namespace_id = \(namespaceID) ORDER BY id",
                on: db)
        }
    }

    public func object(namespaceID: Int64, name: String) async throws -> MetadefObjectRecord? {
        try await client.withConnection { db in
            try await objects(
                """
                SELECT \(unescaped: Self.objectColumns) FROM metadef_objects
                WHERE namespace_id = \(namespaceID) AND name = \(name)
                """, on: db
            ).first
        }
    }

    func insertObject(_ o: MetadefObjectRecord, namespaceID: Int64, on db: PostgresConnection) async throws
        -> MetadefObjectRecord
    {
        let required = try Self.encodeList(o.required)
        let id = try await Self.unique(.object, o.name) {
            try await Self.firstID(
                db.query(
                    """
                    INSERT INTO metadef_objects (namespace_id, name, description, required, json_schema, created_at, updated_at)
                    VALUES (\(namespaceID), \(o.name), \(o.description), \(required), \(o.properties), \(o.createdAt),
                    \(o.updatedAt)) RETURNING id
                    """, logger: logger))
        }
        guard let id else { throw GlimpseError.internalError("the new metadata object's id was not returned") }
        var created = o
        created.id = id
        return created
    }

    public func insertObject(_ object: MetadefObjectRecord, namespaceID: Int64) async throws -> MetadefObjectRecord {
        try await transaction { db in try await insertObject(object, namespaceID: namespaceID, on: db) }
    }

    public func updateObject(_ o: MetadefObjectRecord) async throws -> Bool {
        let required = try Self.encodeList(o.required)
        return try await transaction { db in
            try await Self.unique(.object, o.name) {
                try await Self.firstID(
                    db.query(
                        """
                        UPDATE metadef_objects SET name = \(o.name), description = \(o.description),
                        required = \(required), json_schema = \(o.properties), updated_at = \(o.updatedAt)
                        WHERE id = \(o.id) RETURNING id
                        """, logger: logger)) != nil
            }
        }
    }

    public func deleteObject(id: Int64) async throws {
        try await transaction { db in _ = try await db.query("DELETE FROM metadef_objects WHERE id = \(id)", logger: logger) }
    }

    // MARK: properties

    static let propertyColumns = "id, name, json_schema, created_at, updated_at"

    func properties(_ query: PostgresQuery, on db: PostgresConnection) async throws -> [MetadefPropertyRecord] {
        var result: [MetadefPropertyRecord] = []
        let rows = try await db.query(query, logger: logger)
        for try await (id, name, schema, createdAt, updatedAt) in rows.decode((Int64, String, String, Int64, Int64).self) {
            result.append(MetadefPropertyRecord(id: id, name: name, schema: schema, createdAt: createdAt, updatedAt: updatedAt))
        }
        return result
    }

    public func properties(namespaceID: Int64) async throws -> [MetadefPropertyRecord] {
        try await client.withConnection { db in
            try await properties(
                "SELECT \(unescaped: Self.propertyColumns) FROM metadef_properties WHERE namespace_id = \(namespaceID) ORDER BY id",
                on: db)
        }
    }

    public func property(namespaceID: Int64, name: String) async throws -> MetadefPropertyRecord? {
        try await client.withConnection { db in
            try await properties(
                """
                SELECT \(unescaped: Self.propertyColumns) FROM metadef_properties
                WHERE namespace_id = \(namespaceID) AND name = \(name)
                """, on: db
            ).first
        }
    }

    func insertProperty(_ p: MetadefPropertyRecord, namespaceID: Int64, on db: PostgresConnection) async throws
        -> MetadefPropertyRecord
    {
        let id = try await Self.unique(.property, p.name) {
            try await Self.firstID(
                db.query(
                    """
                    INSERT INTO metadef_properties (namespace_id, name, json_schema, created_at, updated_at)
                    VALUES (\(namespaceID), \(p.name), \(p.schema), \(p.createdAt), \(p.updatedAt)) RETURNING id
                    """, logger: logger))
        }
        guard let id else { throw GlimpseError.internalError("the new metadata property's id was not returned") }
        var created = p
        created.id = id
        return created
    }

    public func insertProperty(_ property: MetadefPropertyRecord, namespaceID: Int64) async throws
        -> MetadefPropertyRecord
    {
        try await transaction { db in try await insertProperty(property, namespaceID: namespaceID, on: db) }
    }

    public func updateProperty(_ p: MetadefPropertyRecord) async throws -> Bool {
        try await transaction { db in
            try await Self.unique(.property, p.name) {
                try await Self.firstID(
                    db.query(
                        """
                        UPDATE metadef_properties SET name = \(p.name), json_schema = \(p.schema),
                        updated_at = \(p.updatedAt) WHERE id = \(p.id) RETURNING id
                        """, logger: logger)) != nil
            }
        }
    }

    public func deleteProperty(id: Int64) async throws {
        try await transaction { db in
            _ = try await db.query("DELETE FROM metadef_properties WHERE id = \(id)", logger: logger)
        }
    }

    // MARK: tags

    static let tagColumns = "id, name, created_at, updated_at"

    func tags(_ query: PostgresQuery, on db: PostgresConnection) async throws -> [MetadefTagRecord] {
        var result: [MetadefTagRecord] = []
        let rows = try await db.query(query, logger: logger)
        for try await (id, name, createdAt, updatedAt) in rows.decode((Int64, String, Int64, Int64).self) {
            result.append(MetadefTagRecord(id: id, name: name, createdAt: createdAt, updatedAt: updatedAt))
        }
        return result
    }

    /// The tag named `name` ignoring ASCII case, as SQLite's NOCASE comparison matches it.
    func tag(namespaceID: Int64, name: String, on db: PostgresConnection) async throws -> MetadefTagRecord? {
        try await tags(
            """
            SELECT \(unescaped: Self.tagColumns) FROM metadef_tags
            WHERE namespace_id = \(namespaceID) AND lower(name) = lower(\(name)::text COLLATE "C")
            """, on: db
        ).first
    }

    public func tags(namespaceID: Int64, ascending: Bool, sortByName: Bool, markerName: String?, limit: Int?)
        async throws -> [MetadefTagRecord]
    {
        try await read { db in
            var binds = PostgresBindings()
            binds.append(namespaceID)
            var sql = "SELECT \(Self.tagColumns) FROM metadef_tags WHERE namespace_id = $1"
            // Names sort ignoring ASCII case, as under SQLite's NOCASE column.
            let keys = sortByName ? [#"lower(name) COLLATE "C""#, "created_at", "id"] : ["created_at", "id"]
            if let markerName {
                guard let marker = try await tag(namespaceID: namespaceID, name: markerName, on: db) else {
                    throw GlimpseError.notFound("Could not find metadata tag \(markerName)")
                }
                let op = ascending ? ">" : "<"
                if sortByName {
                    binds.append(marker.name)
                    sql += " AND (\(keys.joined(separator: ", "))) \(op) (lower($2::text COLLATE \"C\"), $3, $4)"
                } else {
                    sql += " AND (\(keys.joined(separator: ", "))) \(op) ($2, $3)"
                }
                binds.append(marker.createdAt)
                binds.append(marker.id)
            }
            let direction = ascending ? "ASC" : "DESC"
            sql += " ORDER BY " + keys.map { "\($0) \(direction)" }.joined(separator: ", ")
            // SQLite reads a negative LIMIT as no limit.
            if let limit, limit >= 0 {
                binds.append(Int64(limit))
                sql += " LIMIT $\(binds.count)"
            }
            return try await tags(PostgresQuery(unsafeSQL: sql, binds: binds), on: db)
        }
    }

    public func tag(namespaceID: Int64, name: String) async throws -> MetadefTagRecord? {
        try await client.withConnection { db in try await tag(namespaceID: namespaceID, name: name, on: db) }
    }

    func insertTag(_ t: MetadefTagRecord, namespaceID: Int64, on db: PostgresConnection) async throws
        -> MetadefTagRecord
    {
        let id = try await Self.unique(.tag, t.name) {
            try await Self.firstID(
                db.query(
                    """
                    INSERT INTO metadef_tags (namespace_id, name, created_at, updated_at)
                    VALUES (\(namespaceID), \(t.name), \(t.createdAt), \(t.updatedAt)) RETURNING id
                    """, logger: logger))
        }
        guard let id else { throw GlimpseError.internalError("the new metadata tag's id was not returned") }
        var created = t
        created.id = id
        return created
    }

    public func insertTag(_ tag: MetadefTagRecord, namespaceID: Int64) async throws -> MetadefTagRecord {
        try await transaction { db in try await insertTag(tag, namespaceID: namespaceID, on: db) }
    }

    public func insertTags(_ tags: [MetadefTagRecord], namespaceID: Int64, append: Bool) async throws {
        try await transaction { db in
            if !append {
                try await db.query("DELETE FROM metadef_tags WHERE namespace_id = \(namespaceID)", logger: logger)
            }
            for t in tags { _ = try await insertTag(t, namespaceID: namespaceID, on: db) }
        }
    }

    public func updateTag(_ t: MetadefTagRecord) async throws -> Bool {
        try await transaction { db in
            try await Self.unique(.tag, t.name) {
                try await Self.firstID(
                    db.query(
                        "UPDATE metadef_tags SET name = \(t.name), updated_at = \(t.updatedAt) WHERE id = \(t.id) RETURNING id",
                        logger: logger)) != nil
            }
        }
    }

    public func deleteTag(id: Int64) async throws {
        try await transaction { db in _ = try await db.query("DELETE FROM metadef_tags WHERE id = \(id)", logger: logger) }
    }
}
