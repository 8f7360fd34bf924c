import Foundation
import GRDB
import GlimpseCore

/// `MetadefStore` on SQLite through GRDB (WAL mode), in its own file (`metadefs.sqlite`) beside the image metadata.
/// A new database gets the standard resource types (protected, as `glance-manage db_load_metadefs` creates them).
public final class SQLiteMetadefStore: MetadefStore {
    let pool: DatabasePool

    public init(path: String, standardResourceTypes: [String] = MetadefResourceTypeRecord.standardNames) throws {
        pool = try EmbeddedSQLite.openPool(at: path)
        var m = DatabaseMigrator()
        m.registerMigration("v1-metadefs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE metadef_namespaces (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        namespace TEXT NOT NULL UNIQUE,
                        display_name TEXT,
                        description TEXT,
                        visibility TEXT NOT NULL,
                        protected INTEGER NOT NULL DEFAULT 0,
                        owner TEXT,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX metadef_namespaces_owner ON metadef_namespaces(owner);
                    CREATE TABLE metadef_resource_types (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE,
                        protected INTEGER NOT NULL DEFAULT 0,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE TABLE metadef_namespace_resource_types (
                        namespace_id INTEGER NOT NULL REFERENCES metadef_namespaces(id) ON DELETE CASCADE,
                        resource_type_id INTEGER NOT NULL REFERENCES metadef_resource_types(id),
                        prefix TEXT,
                        properties_target TEXT,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (namespace_id, resource_type_id)
                    );
                    CREATE INDEX metadef_nrt_type ON metadef_namespace_resource_types(resource_type_id);
                    CREATE TABLE metadef_objects (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        namespace_id INTEGER NOT NULL REFERENCES metadef_namespaces(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        description TEXT,
                        required TEXT NOT NULL,
                        json_schema TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        UNIQUE (namespace_id, name)
                    );
                    CREATE TABLE metadef_properties (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        namespace_id INTEGER NOT NULL REFERENCES metadef_namespaces(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        json_schema TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        UNIQUE (namespace_id, name)
                    );
                    CREATE TABLE metadef_tags (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        namespace_id INTEGER NOT NULL REFERENCES metadef_namespaces(id) ON DELETE CASCADE,
                        name TEXT NOT NULL COLLATE NOCASE,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        UNIQUE (namespace_id, name)
                    );
                    """)
            let now = Self.now()
            for name in standardResourceTypes {
                try db.execute(
                    sql: "INSERT INTO metadef_resource_types (name, protected, created_at, updated_at) VALUES (?, 1, ?, ?)",
                    arguments: [name, now, now])
            }
        }
        try m.migrate(pool)
    }

    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()) }

    /// Runs `body`, turning a UNIQUE violation into `MetadefDuplicateError(kind, name)`.
    static func unique<T>(_ kind: MetadefDuplicateError.Kind, _ name: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as DatabaseError where e.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            || e.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
        {
            throw MetadefDuplicateError(kind, name)
        }
    }

    // MARK: rows

    static let namespaceColumns =
        "id, namespace, display_name, description, visibility, protected, owner, created_at, updated_at"

    static func namespace(_ row: Row) -> MetadefNamespaceRecord {
        MetadefNamespaceRecord(
            id: row["id"], namespace: row["namespace"], displayName: row["display_name"],
            description: row["description"], visibility: row["visibility"], protected: row["protected"],
            owner: row["owner"], createdAt: row["created_at"], updatedAt: row["updated_at"])
    }

    static func object(_ row: Row) throws -> MetadefObjectRecord {
        let requiredText: String = row["required"]
        let required = try JSONDecoder().decode([String].self, from: Data(requiredText.utf8))
        return MetadefObjectRecord(
            id: row["id"], name: row["name"], description: row["description"], required: required,
            properties: row["json_schema"], createdAt: row["created_at"], updatedAt: row["updated_at"])
    }

    static func encodeList(_ list: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(list), as: UTF8.self)
    }

    static func property(_ row: Row) -> MetadefPropertyRecord {
        MetadefPropertyRecord(
            id: row["id"], name: row["name"], schema: row["json_schema"], createdAt: row["created_at"],
            updatedAt: row["updated_at"])
    }

    static func tag(_ row: Row) -> MetadefTagRecord {
        MetadefTagRecord(id: row["id"], name: row["name"], createdAt: row["created_at"], updatedAt: row["updated_at"])
    }

    static func association(_ row: Row) -> MetadefAssociationRecord {
        MetadefAssociationRecord(
            name: row["name"], prefix: row["prefix"], propertiesTarget: row["properties_target"],
            createdAt: row["created_at"], updatedAt: row["updated_at"])
    }

    // MARK: namespaces

    public func namespace(named name: String) async throws -> MetadefNamespaceRecord? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.namespaceColumns) FROM metadef_namespaces WHERE namespace = ?",
                arguments: [name]
            ).map(Self.namespace)
        }
    }

    public func namespaces(_ q: MetadefNamespaceQuery) async throws -> [MetadefNamespaceRecord] {
        var clauses: [String] = []
        var args: [(any DatabaseValueConvertible)?] = []
        if !q.seesAll {
            clauses.append("(owner IS NULL OR visibility = 'public' OR owner = ?)")
            args.append(q.project)
        }
        if let v = q.visibility {
            clauses.append("visibility = ?")
            args.append(v)
        }
        if let types = q.resourceTypes {
            if types.isEmpty { return [] }
            clauses.append(
                """
                id IN (SELECT a.namespace_id FROM metadef_namespace_resource_types a
                JOIN metadef_resource_types r ON r.id = a.resource_type_id
                WHERE r.name IN (\(Array(repeating: "?", count: types.count).joined(separator: ","))))
                """)
            args.append(contentsOf: types.map { $0 as (any DatabaseValueConvertible)? })
        }
        // The sort: the key, then created_at and id, all one direction (oslo.db's paginate_query).
        let markerKey: (any DatabaseValueConvertible)?
        let keys: [String]
        switch q.sortKey {
        case .createdAt: keys = ["created_at", "id"]; markerKey = nil
        case .id: keys = ["id"]; markerKey = nil
        case .updatedAt: keys = ["updated_at", "created_at", "id"]; markerKey = q.marker?.updatedAt
        case .namespace: keys = ["namespace", "created_at", "id"]; markerKey = q.marker?.namespace
        case .displayName:
            keys = ["COALESCE(display_name, '')", "created_at", "id"]
            markerKey = q.marker.map { $0.displayName ?? "" }
        case .owner:
            keys = ["COALESCE(owner, '')", "created_at", "id"]
            markerKey = q.marker.map { $0.owner ?? "" }
        case .visibility:
            keys = ["visibility", "created_at", "id"]; markerKey = q.marker?.visibility
        }
        let dir = q.ascending ? "ASC" : "DESC"
        if let m = q.marker {
            var markerValues: [(any DatabaseValueConvertible)?] = []
            switch q.sortKey {
            case .createdAt: markerValues = [m.createdAt, m.id]
            case .id: markerValues = [m.id]
            default: markerValues = [markerKey, m.createdAt, m.id]
            }
            let op = q.ascending ? ">" : "<"
            clauses.append(
                "(\(keys.joined(separator: ", "))) \(op) (\(Array(repeating: "?", count: keys.count).joined(separator: ", ")))"
            )
            args.append(contentsOf: markerValues)
        }
        var sql = "SELECT \(Self.namespaceColumns) FROM metadef_namespaces"
        if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
        sql += " ORDER BY " + keys.map { "\($0) \(dir)" }.joined(separator: ", ")
        sql += " LIMIT ?"
        args.append(max(0, q.limit))
        let arguments = StatementArguments(args.map { $0?.databaseValue ?? .null })
        let query = sql
        return try await pool.read { db in
            try Row.fetchAll(db, sql: query, arguments: arguments).map(Self.namespace)
        }
    }

    public func createNamespace(
        _ ns: MetadefNamespaceRecord, associations: [MetadefAssociationRecord], objects: [MetadefObjectRecord],
        properties: [MetadefPropertyRecord], tags: [MetadefTagRecord]
    ) async throws -> MetadefNamespaceRecord {
        try await pool.write { db in
            try Self.unique(.namespace, ns.namespace) {
                try db.execute(
                    sql: """
                        INSERT INTO metadef_namespaces
                        (namespace, display_name, description, visibility, protected, owner, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        ns.namespace, ns.displayName, ns.description, ns.visibility, ns.protected, ns.owner,
                        ns.createdAt, ns.updatedAt,
                    ])
            }
            var created = ns
            created.id = db.lastInsertedRowID
            for a in associations { try Self.addAssociation(db, a, namespaceID: created.id) }
            for o in objects { _ = try Self.insertObject(db, o, namespaceID: created.id) }
            for p in properties { _ = try Self.insertProperty(db, p, namespaceID: created.id) }
            for t in tags { _ = try Self.insertTag(db, t, namespaceID: created.id) }
            return created
        }
    }

    public func updateNamespace(_ ns: MetadefNamespaceRecord) async throws -> Bool {
        try await pool.write { db in
            try Self.unique(.namespace, ns.namespace) {
                try db.execute(
                    sql: """
                        UPDATE metadef_namespaces SET namespace = ?, display_name = ?, description = ?, visibility = ?,
                        protected = ?, owner = ?, updated_at = ? WHERE id = ?
                        """,
                    arguments: [
                        ns.namespace, ns.displayName, ns.description, ns.visibility, ns.protected, ns.owner,
                        ns.updatedAt, ns.id,
                    ])
            }
            return db.changesCount > 0
        }
    }

    public func deleteNamespace(id: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM metadef_namespaces WHERE id = ?", arguments: [id])
        }
    }

    public func deleteContent(_ kind: MetadefContentKind, namespaceID: Int64) async throws {
        let table =
            switch kind {
            case .objects: "metadef_objects"
            case .properties: "metadef_properties"
            case .tags: "metadef_tags"
            }
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM \(table) WHERE namespace_id = ?", arguments: [namespaceID])
        }
    }

    // MARK: objects

    public func objects(namespaceID: Int64) async throws -> [MetadefObjectRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM metadef_objects WHERE namespace_id = ? ORDER BY id", arguments: [namespaceID])
                .map(Self.object)
        }
    }

    public func object(namespaceID: Int64, name: String) async throws -> MetadefObjectRecord? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM metadef_objects WHERE namespace_id = ? AND name = ?",
                arguments: [namespaceID, name]
            ).map(Self.object)
        }
    }

    static func insertObject(_ db: Database, _ o: MetadefObjectRecord, namespaceID: Int64) throws -> MetadefObjectRecord {
        try unique(.object, o.name) {
            try db.execute(
                sql: """
                    INSERT INTO metadef_objects (namespace_id, name, description, required, json_schema, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    namespaceID, o.name, o.description, try encodeList(o.required), o.properties, o.createdAt,
                    o.updatedAt,
                ])
        }
        var created = o
        created.id = db.lastInsertedRowID
        return created
    }

    public func insertObject(_ object: MetadefObjectRecord, namespaceID: Int64) async throws -> MetadefObjectRecord {
        try await pool.write { db in try Self.insertObject(db, object, namespaceID: namespaceID) }
    }

    public func updateObject(_ o: MetadefObjectRecord) async throws -> Bool {
        try await pool.write { db in
            try Self.unique(.object, o.name) {
                try db.execute(
                    sql: """
                        UPDATE metadef_objects SET name = ?, description = ?, required = ?, json_schema = ?, updated_at = ?
                        WHERE id = ?
                        """,
                    arguments: [o.name, o.description, try Self.encodeList(o.required), o.properties, o.updatedAt, o.id])
            }
            return db.changesCount > 0
        }
    }

    public func deleteObject(id: Int64) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM metadef_objects WHERE id = ?", arguments: [id]) }
    }

    // MARK: properties

    public func properties(namespaceID: Int64) async throws -> [MetadefPropertyRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM metadef_properties WHERE namespace_id = ? ORDER BY id", arguments: [namespaceID]
            ).map(Self.property)
        }
    }

    public func property(namespaceID: Int64, name: String) async throws -> MetadefPropertyRecord? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM metadef_properties WHERE namespace_id = ? AND name = ?",
                arguments: [namespaceID, name]
            ).map(Self.property)
        }
    }

    static func insertProperty(_ db: Database, _ p: MetadefPropertyRecord, namespaceID: Int64) throws
        -> MetadefPropertyRecord
    {
        try unique(.property, p.name) {
            try db.execute(
                sql: """
                    INSERT INTO metadef_properties (namespace_id, name, json_schema, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [namespaceID, p.name, p.schema, p.createdAt, p.updatedAt])
        }
        var created = p
        created.id = db.lastInsertedRowID
        return created
    }

    public func insertProperty(_ property: MetadefPropertyRecord, namespaceID: Int64) async throws
        -> MetadefPropertyRecord
    {
        try await pool.write { db in try Self.insertProperty(db, property, namespaceID: namespaceID) }
    }

    public func updateProperty(_ p: MetadefPropertyRecord) async throws -> Bool {
        try await pool.write { db in
            try Self.unique(.property, p.name) {
                try db.execute(
                    sql: "UPDATE metadef_properties SET name = ?, json_schema = ?, updated_at = ? WHERE id = ?",
                    arguments: [p.name, p.schema, p.updatedAt, p.id])
            }
            return db.changesCount > 0
        }
    }

    public func deleteProperty(id: Int64) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM metadef_properties WHERE id = ?", arguments: [id]) }
    }

    // MARK: tags

    public func tags(namespaceID: Int64, ascending: Bool, sortByName: Bool, markerName: String?, limit: Int?)
        async throws -> [MetadefTagRecord]
    {
        try await pool.read { db in
            let dir = ascending ? "ASC" : "DESC"
            let keys = sortByName ? ["name", "created_at", "id"] : ["created_at", "id"]
            var sql = "SELECT * FROM metadef_tags WHERE namespace_id = ?"
            var args: [any DatabaseValueConvertible] = [namespaceID]
            if let markerName {
                guard let m = try Row.fetchOne(
                    db, sql: "SELECT * FROM metadef_tags WHERE namespace_id = ? AND name = ?",
                    arguments: [namespaceID, markerName])
                else { throw GlimpseError.notFound("Could not find metadata tag \(markerName)") }
                let tag = Self.tag(m)
                let op = ascending ? ">" : "<"
                if sortByName {
                    sql += " AND (name, created_at, id) \(op) (?, ?, ?)"
                    args += [tag.name, tag.createdAt, tag.id]
                } else {
                    sql += " AND (created_at, id) \(op) (?, ?)"
                    args += [tag.createdAt, tag.id]
                }
            }
            sql += " ORDER BY " + keys.map { "\($0) \(dir)" }.joined(separator: ", ")
            if let limit {
                sql += " LIMIT ?"
                args.append(limit)
            }
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Self.tag)
        }
    }

    public func tag(namespaceID: Int64, name: String) async throws -> MetadefTagRecord? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM metadef_tags WHERE namespace_id = ? AND name = ?", arguments: [namespaceID, name]
            ).map(Self.tag)
        }
    }

    static func insertTag(_ db: Database, _ t: MetadefTagRecord, namespaceID: Int64) throws -> MetadefTagRecord {
        try unique(.tag, t.name) {
            try db.execute(
                sql: "INSERT INTO metadef_tags (namespace_id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                arguments: [namespaceID, t.name, t.createdAt, t.updatedAt])
        }
        var created = t
        created.id = db.lastInsertedRowID
        return created
    }

    public func insertTag(_ tag: MetadefTagRecord, namespaceID: Int64) async throws -> MetadefTagRecord {
        try await pool.write { db in try Self.insertTag(db, tag, namespaceID: namespaceID) }
    }

    public func insertTags(_ tags: [MetadefTagRecord], namespaceID: Int64, append: Bool) async throws {
        try await pool.write { db in
            if !append {
                try db.execute(sql: "DELETE FROM metadef_tags WHERE namespace_id = ?", arguments: [namespaceID])
            }
            for t in tags { _ = try Self.insertTag(db, t, namespaceID: namespaceID) }
        }
    }

    public func updateTag(_ t: MetadefTagRecord) async throws -> Bool {
        try await pool.write { db in
            try Self.unique(.tag, t.name) {
                try db.execute(
                    sql: "UPDATE metadef_tags SET name = ?, updated_at = ? WHERE id = ?",
                    arguments: [t.name, t.updatedAt, t.id])
            }
            return db.changesCount > 0
        }
    }

    public func deleteTag(id: Int64) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM metadef_tags WHERE id = ?", arguments: [id]) }
    }

    // MARK: resource types

    public func resourceTypes() async throws -> [MetadefResourceTypeRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM metadef_resource_types ORDER BY id").map {
                MetadefResourceTypeRecord(
                    name: $0["name"], protected: $0["protected"], createdAt: $0["created_at"],
                    updatedAt: $0["updated_at"])
            }
        }
    }

    static let associationSelect = """
        SELECT a.namespace_id, r.name, a.prefix, a.properties_target, a.created_at, a.updated_at
        FROM metadef_namespace_resource_types a JOIN metadef_resource_types r ON r.id = a.resource_type_id
        """

    public func associations(namespaceID: Int64) async throws -> [MetadefAssociationRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: Self.associationSelect + " WHERE a.namespace_id = ? ORDER BY a.created_at, a.rowid",
                arguments: [namespaceID]
            ).map(Self.association)
        }
    }

    public func associations(namespaceIDs: [Int64]) async throws -> [Int64: [MetadefAssociationRecord]] {
        if namespaceIDs.isEmpty { return [:] }
        return try await pool.read { db in
            let marks = Array(repeating: "?", count: namespaceIDs.count).joined(separator: ",")
            var result: [Int64: [MetadefAssociationRecord]] = [:]
            for row in try Row.fetchAll(
                db, sql: Self.associationSelect + " WHERE a.namespace_id IN (\(marks)) ORDER BY a.created_at, a.rowid",
                arguments: StatementArguments(namespaceIDs))
            {
                result[row["namespace_id"], default: []].append(Self.association(row))
            }
            return result
        }
    }

    static func addAssociation(_ db: Database, _ a: MetadefAssociationRecord, namespaceID: Int64) throws {
        let typeID: Int64
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM metadef_resource_types WHERE name = ?", arguments: [a.name]) {
            typeID = id
        } else {
            try db.execute(
                sql: "INSERT INTO metadef_resource_types (name, protected, created_at, updated_at) VALUES (?, 0, ?, ?)",
                arguments: [a.name, a.createdAt, a.updatedAt])
            typeID = db.lastInsertedRowID
        }
        try unique(.association, a.name) {
            try db.execute(
                sql: """
                    INSERT INTO metadef_namespace_resource_types
                    (namespace_id, resource_type_id, prefix, properties_target, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [namespaceID, typeID, a.prefix, a.propertiesTarget, a.createdAt, a.updatedAt])
        }
    }

    public func addAssociation(_ association: MetadefAssociationRecord, namespaceID: Int64) async throws {
        try await pool.write { db in try Self.addAssociation(db, association, namespaceID: namespaceID) }
    }

    public func removeAssociation(namespaceID: Int64, resourceType: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    DELETE FROM metadef_namespace_resource_types WHERE namespace_id = ?
                    AND resource_type_id = (SELECT id FROM metadef_resource_types WHERE name = ?)
                    """,
                arguments: [namespaceID, resourceType])
            return db.changesCount > 0
        }
    }
}
