import GlimpseCore
import GlimpseStorage
import Logging
import PostgresNIO

/// `MetadataStore` on PostgreSQL, for several Glimpse nodes sharing one database. One transaction per mutation;
/// `updateImage` locks the image row (`SELECT ... FOR UPDATE`) so concurrent compare-and-sets on any node
/// serialise. Unlike the SQLite backend it keeps no in-memory cache: another node may change any row at any time.
public final class PostgresMetadataStore: MetadataStore {
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>

    private init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        runner = Task { await client.run() }
    }

    deinit { runner.cancel() }

    /// Connects a pool with `configuration` and brings the schema up to date before returning; fails with 503
    /// `unavailable` when that takes longer than `startupTimeout`.
    public static func open(
        _ configuration: PostgresClient.Configuration, startupTimeout: Duration = PostgresStartup.defaultTimeout,
        logger: Logger
    ) async throws -> PostgresMetadataStore {
        let store = PostgresMetadataStore(client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger)
        let client = store.client
        try await PostgresStartup.within(startupTimeout) {
            try await PostgresMetadataSchema.migrations.run(on: client, logger: logger)
        }
        return store
    }

    /// Every mutation goes through here: one connection, one transaction.
    func transaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await PostgresTransaction.run(on: connection, logger: logger, body)
        }
    }

    /// Every read goes through here: one connection, one snapshot.
    func read<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await PostgresTransaction.run(on: connection, logger: logger, snapshot: true, body)
        }
    }

    // MARK: images

    public func insertImage(_ image: Image) async throws {
        try await transaction { db in
            let inserted = try await db.query(
                "INSERT INTO images (id, status, visibility, created_at, updated_at) VALUES (\(image.id), \(image.status.rawValue), \(image.visibility.rawValue), \(image.createdAt.microseconds), \(image.updatedAt.microseconds)) ON CONFLICT (id) DO NOTHING RETURNING id",
                logger: logger
            ).collect()
            if inserted.isEmpty { throw GlimpseError.conflict("An image with identifier \(image.id) already exists") }
            try await PostgresImageRows.write(image, previous: nil, on: db, logger: logger)
        }
    }

    public func image(id: String) async throws -> Image? {
        try await read { db in try await PostgresImageRows.load(ids: [id], on: db, logger: logger).first }
    }

    public func updateImage(id: String, _ body: @Sendable (inout Image) throws -> Void) async throws -> Image {
        try await transaction { db in
            guard var image = try await PostgresImageRows.load(ids: [id], lock: true, on: db, logger: logger).first
            else { throw GlimpseError.noImage(id) }
            let before = image
            try body(&image)
            image.id = before.id
            if image != before { try await PostgresImageRows.write(image, previous: before, on: db, logger: logger) }
            return image
        }
    }

    public func deleteImage(id: String, onlyIf check: @Sendable (Image) throws -> Void) async throws -> Image? {
        try await transaction { db in
            guard let image = try await PostgresImageRows.load(ids: [id], lock: true, on: db, logger: logger).first
            else { return nil }
            try check(image)
            // Properties, tags, members and locations go with the row (ON DELETE CASCADE).
            try await db.query("DELETE FROM images WHERE id = \(id)", logger: logger)
            return image
        }
    }

    public func images(inStatus status: ImageStatus) async throws -> [Image] {
        try await read { db in
            let ids = try await strings(
                db.query("SELECT id FROM images WHERE status = \(status.rawValue) ORDER BY id", logger: logger))
            return try await PostgresImageRows.load(ids: ids, on: db, logger: logger)
        }
    }

    public func storageUsed(byOwner owner: String) async throws -> Int64 {
        try await read { db in
            var total: Int64 = 0
            for try await sum in try await db.query(
                "SELECT COALESCE(SUM(size), 0)::BIGINT FROM images WHERE owner = \(owner) AND size IS NOT NULL",
                logger: logger
            ).decode(Int64.self) {
                total = sum
            }
            return total
        }
    }

    public func allImageIDs() async throws -> Set<String> {
        try await read { db in Set(try await strings(db.query("SELECT id FROM images", logger: logger))) }
    }

    public func listImages(_ query: ImageListQuery, caller: Caller, after marker: Image?) async throws -> [Image] {
        let statement = try PostgresImageQuery.build(query, caller: caller, marker: marker)
        return try await read { db in
            let ids = try await strings(db.query(statement, logger: logger))
            return try await PostgresImageRows.load(ids: ids, on: db, logger: logger)
        }
    }

    func strings(_ rows: PostgresRowSequence) async throws -> [String] {
        var values: [String] = []
        for try await value in rows.decode(String.self) { values.append(value) }
        return values
    }
}
