import Foundation
import GlimpseCore
import GlimpseStorage
import Logging
import PostgresNIO

/// `MetadefStore` on PostgreSQL, for several Glimpse nodes sharing one database, with the SQLite backend's
/// semantics. One transaction per mutation; names are kept unique by constraints, so two nodes creating the same
/// name at once give one success and one `MetadefDuplicateError`. Namespaces and their rows live here; objects,
/// properties, tags and resource types in the extensions beside it.
public final class PostgresMetadefStore: MetadefStore {
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>

    private init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        runner = Task { await client.run() }
    }

    deinit { runner.cancel() }

    /// Connects a pool with `configuration` and brings the schema up to date; a new database gets
    /// `standardResourceTypes` (protected, once, whichever node migrates it); fails with 503 `unavailable` after
    /// `startupTimeout`.
    public static func open(
        _ configuration: PostgresClient.Configuration,
        standardResourceTypes: [String] = MetadefResourceTypeRecord.standardNames,
        startupTimeout: Duration = PostgresStartup.defaultTimeout, logger: Logger
    ) async throws -> PostgresMetadefStore {
        let store = PostgresMetadefStore(
            client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger)
        let client = store.client
        let migrations = PostgresMetadefSchema.migrations(standardResourceTypes: standardResourceTypes)
        _ = try await PostgresStartup.within(startupTimeout) { try await migrations.run(on: client, logger: logger) }
        return store
    }

    /// Every mutation goes through here: one connection, one transaction.
    func transaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await PostgresTransaction.run(on: connection, logger: logger, body)
        }
    }

    /// Reads of more than one statement go through here: one connection, one snapshot.
    func read<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await PostgresTransaction.run(on: connection, logger: logger, snapshot: true, body)
        }
    }

    /// Runs `body`, turning a unique violation into `MetadefDuplicateError(kind, name)`.
    static func unique<T>(
        _ kind: MetadefDuplicateError.Kind, _ name: String, _ body: () async throws -> T
    ) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == PostgresError.Code.uniqueViolation.raw {
            throw MetadefDuplicateError(kind, name)
        }
    }

    /// The one `BIGINT` a statement returns (`RETURNING id`), nil when it returned no row.
    static func firstID(_ rows: PostgresRowSequence) async throws -> Int64? {
        var first: Int64?
        // Read to the end, so the connection goes back to the pool with nothing pending.
        for try await id in rows.decode(Int64.self) where first == nil { first = id }
        return first
    }

    // MARK: namespaces

    static let namespaceColumns =
        "id, namespace, display_name, description, visibility, protected, owner, created_at, updated_at"

    func namespaces(_ query: PostgresQuery, on db: PostgresConnection) async throws -> [MetadefNamespaceRecord] {
        var result: [MetadefNamespaceRecord] = []
        let rows = try await db.query(query, logger: logger)
        for try await (id, namespace, displayName, description, visibility, protected, owner, createdAt, updatedAt)
            in rows.decode((Int64, String, String?, String?, String, Bool, String?, Int64, Int64).self)
        {
            result.append(
                MetadefNamespaceRecord(
                    id: id, namespace: namespace, displayName: displayName, description: description,
                    visibility: visibility, protected: protected, owner: owner, createdAt: createdAt,
                    updatedAt: updatedAt))
        }
        return result
    }

    public func namespace(named name: String) async throws -> MetadefNamespaceRecord? {
        try await client.withConnection { db in
            try await namespaces(
                "SELECT \(unescaped: Self.namespaceColumns) FROM metadef_namespaces WHERE namespace = \(name)", on: db
            ).first
        }
    }

    public func namespaces(_ q: MetadefNamespaceQuery) async throws -> [MetadefNamespaceRecord] {
        if let types = q.resourceTypes, types.isEmpty { return [] }
        let statement = PostgresMetadefNamespaceQuery.build(q, columns: Self.namespaceColumns)
        return try await client.withConnection { db in try await namespaces(statement, on: db) }
    }

    public func createNamespace(
        _ ns: MetadefNamespaceRecord, associations: [MetadefAssociationRecord], objects: [MetadefObjectRecord],
        properties: [MetadefPropertyRecord], tags: [MetadefTagRecord]
    ) async throws -> MetadefNamespaceRecord {
        try await transaction { db in
            let id = try await Self.unique(.namespace, ns.namespace) {
                try await Self.firstID(
                    db.query(
                        """
                        INSERT INTO metadef_namespaces
                        (namespace, display_name, description, visibility, protected, owner, created_at, updated_at)
                        VALUES (\(ns.namespace), \(ns.displayName), \(ns.description), \(ns.visibility), \(ns.protected),
                        \(ns.owner), \(ns.createdAt), \(ns.updatedAt)) RETURNING id
                        """, logger: logger))
            }
            guard let id else { throw GlimpseError(.internalError, "the new namespace's id was not returned") }
            var created = ns
            created.id = id
            for a in associations { try await addAssociation(a, namespaceID: id, on: db) }
            for o in objects { _ = try await insertObject(o, namespaceID: id, on: db) }
            for p in properties { _ = try await insertProperty(p, namespaceID: id, on: db) }
            for t in tags { _ = try await insertTag(t, namespaceID: id, on: db) }
            return created
        }
    }

    public func updateNamespace(_ ns: MetadefNamespaceRecord) async throws -> Bool {
        try await transaction { db in
            try await Self.unique(.namespace, ns.namespace) {
                try await Self.firstID(
                    db.query(
                        """
                        UPDATE metadef_namespaces SET namespace = \(ns.namespace), display_name = \(ns.displayName),
                        description = \(ns.description), visibility = \(ns.visibility), protected = \(ns.protected),
                        owner = \(ns.owner), updated_at = \(ns.updatedAt) WHERE id = \(ns.id) RETURNING id
                        """, logger: logger)) != nil
            }
        }
    }

    public func deleteNamespace(id: Int64) async throws {
        // Objects, properties, tags and associations go with the row (ON DELETE CASCADE).
        try await transaction { db in
            _ = try await db.query("DELETE FROM metadef_namespaces WHERE id = \(id)", logger: logger)
        }
    }

    public func deleteContent(_ kind: MetadefContentKind, namespaceID: Int64) async throws {
        let statement: PostgresQuery =
            switch kind {
            case .objects: "DELETE FROM metadef_objects WHERE namespace_id = \(namespaceID)"
            case .properties: "DELETE FROM metadef_properties WHERE namespace_id = \(namespaceID)"
            case .tags: "DELETE FROM metadef_tags WHERE namespace_id = \(namespaceID)"
            }
        try await transaction { db in _ = try await db.query(statement, logger: logger) }
    }
}
