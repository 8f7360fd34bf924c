import GRDB
import GlimpseCore

/// `MetadataStore` on SQLite through GRDB: WAL mode, versioned migrations, one write transaction per mutation.
public final class SQLiteMetadataStore: MetadataStore {
    let pool: DatabasePool
    let recent = RecentImages(capacity: 4096)

    public init(path: String) throws {
        pool = try EmbeddedSQLite.openPool(at: path)
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-images") { db in
            try db.execute(
                sql: """
                    CREATE TABLE images (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT,
                        status TEXT NOT NULL,
                        visibility TEXT NOT NULL,
                        protected INTEGER NOT NULL DEFAULT 0,
                        os_hidden INTEGER NOT NULL DEFAULT 0,
                        checksum TEXT,
                        os_hash_algo TEXT,
                        os_hash_value TEXT,
                        owner TEXT,
                        size INTEGER,
                        virtual_size INTEGER,
                        disk_format TEXT,
                        container_format TEXT,
                        min_ram INTEGER NOT NULL DEFAULT 0,
                        min_disk INTEGER NOT NULL DEFAULT 0,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX images_created ON images(created_at, id);
                    CREATE INDEX images_owner ON images(owner);
                    CREATE TABLE image_properties (
                        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        value TEXT NOT NULL,
                        PRIMARY KEY (image_id, name)
                    ) WITHOUT ROWID;
                    CREATE INDEX image_properties_nv ON image_properties(name, value);
                    CREATE TABLE image_tags (
                        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                        value TEXT NOT NULL,
                        position INTEGER NOT NULL,
                        PRIMARY KEY (image_id, value)
                    ) WITHOUT ROWID;
                    CREATE TABLE image_members (
                        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                        member TEXT NOT NULL,
                        status TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (image_id, member)
                    ) WITHOUT ROWID;
                    CREATE INDEX image_members_member ON image_members(member, status);
                    """)
        }
        m.registerMigration("v2-tasks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE tasks (
                        id TEXT PRIMARY KEY NOT NULL,
                        type TEXT NOT NULL,
                        status TEXT NOT NULL,
                        owner TEXT,
                        image_id TEXT,
                        request_id TEXT,
                        user_id TEXT,
                        input TEXT NOT NULL,
                        result TEXT,
                        message TEXT NOT NULL DEFAULT '',
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        expires_at INTEGER
                    );
                    CREATE INDEX tasks_image ON tasks(image_id, created_at);
                    """)
        }
        registerLocationMigrations(&m)
        registerNodeMigrations(&m)
        return m
    }

    // MARK: images

    public func insertImage(_ image: Image) async throws {
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM images WHERE id = ?", arguments: [image.id]) == true {
                throw GlimpseError.conflict("An image with identifier \(image.id) already exists")
            }
            try Self.write(image, db: db, insert: true)
        }
    }

    public func image(id: String) async throws -> Image? {
        if let hit = recent.image(id) { return hit }
        let generation = recent.generation
        let image = try await pool.read { db in try Self.load(ids: [id], db: db).first }
        if let image { recent.remember(image, readAt: generation) }
        return image
    }

    /// Every write transaction goes through here, so that no cached image outlives a change.
    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        defer { recent.invalidateAll() }
        return try await pool.write(body)
    }

    public func updateImage(id: String, _ body: @Sendable (inout Image) throws -> Void) async throws -> Image {
        try await write { db in
            guard var image = try Self.load(ids: [id], db: db).first else { throw GlimpseError.noImage(id) }
            let before = image
            try body(&image)
            image.id = before.id
            if image != before { try Self.write(image, db: db, insert: false, previous: before) }
            return image
        }
    }

    public func deleteImage(id: String, onlyIf check: @Sendable (Image) throws -> Void) async throws -> Image? {
        try await write { db in
            guard let image = try Self.load(ids: [id], db: db).first else { return nil }
            try check(image)
            try db.execute(sql: "DELETE FROM image_properties WHERE image_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM image_tags WHERE image_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM image_members WHERE image_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM images WHERE id = ?", arguments: [id])
            return image
        }
    }

    public func images(inStatus status: ImageStatus) async throws -> [Image] {
        try await pool.read { db in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM images WHERE status = ?", arguments: [status.rawValue])
            return try Self.load(ids: ids, db: db)
        }
    }

    public func storageUsed(byOwner owner: String) async throws -> Int64 {
        try await pool.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT COALESCE(SUM(size), 0) FROM images WHERE owner = ? AND size IS NOT NULL",
                arguments: [owner]) ?? 0
        }
    }

    public func allImageIDs() async throws -> Set<String> {
        try await pool.read { db in Set(try String.fetchAll(db, sql: "SELECT id FROM images")) }
    }

    public func listImages(_ query: ImageListQuery, caller: Caller, after marker: Image?) async throws -> [Image] {
        let (sql, args) = SQLiteImageQuery.build(query, caller: caller, marker: marker)
        return try await pool.read { db in
            let ids = try String.fetchAll(db, sql: sql, arguments: args)
            return try Self.load(ids: ids, db: db)
        }
    }

    // MARK: members

    public func member(imageID: String, memberID: String) async throws -> ImageMember? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM image_members WHERE image_id = ? AND member = ?",
                arguments: [imageID, memberID]
            ).map(Self.member(from:))
        }
    }

    public func members(imageID: String) async throws -> [ImageMember] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM image_members WHERE image_id = ? ORDER BY created_at, member",
                arguments: [imageID]
            ).map(Self.member(from:))
        }
    }

    public func insertMember(_ m: ImageMember, limit: Int) async throws {
        try await write { db in
            if try Bool.fetchOne(
                db, sql: "SELECT 1 FROM image_members WHERE image_id = ? AND member = ?",
                arguments: [m.imageID, m.memberID]) == true
            {
                throw GlimpseError.conflict("Member \(m.memberID) already exists for image \(m.imageID)")
            }
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM image_members WHERE image_id = ?", arguments: [m.imageID]) ?? 0
            if count >= limit {
                throw GlimpseError.tooLarge("Maximum number of members (\(limit)) exceeded for image \(m.imageID).")
            }
            try db.execute(
                sql: "INSERT INTO image_members (image_id, member, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [m.imageID, m.memberID, m.status.rawValue, m.createdAt.microseconds, m.updatedAt.microseconds])
        }
    }

    public func updateMember(imageID: String, memberID: String, status: MemberStatus, at: Timestamp) async throws -> ImageMember? {
        try await write { db in
            try db.execute(
                sql: "UPDATE image_members SET status = ?, updated_at = ? WHERE image_id = ? AND member = ?",
                arguments: [status.rawValue, at.microseconds, imageID, memberID])
            return try Row.fetchOne(
                db, sql: "SELECT * FROM image_members WHERE image_id = ? AND member = ?", arguments: [imageID, memberID]
            ).map(Self.member(from:))
        }
    }

    public func deleteMember(imageID: String, memberID: String) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM image_members WHERE image_id = ? AND member = ?", arguments: [imageID, memberID])
            return db.changesCount > 0
        }
    }

    // MARK: row mapping

    static func member(from row: Row) -> ImageMember {
        ImageMember(
            imageID: row["image_id"], memberID: row["member"],
            status: MemberStatus(rawValue: row["status"]) ?? .pending,
            createdAt: Timestamp(microseconds: row["created_at"]), updatedAt: Timestamp(microseconds: row["updated_at"]))
    }

    static func write(_ i: Image, db: Database, insert: Bool, previous: Image? = nil) throws {
        let args: StatementArguments = [
            i.name, i.status.rawValue, i.visibility.rawValue, i.protected, i.osHidden, i.checksum, i.osHashAlgo,
            i.osHashValue, i.owner, i.size, i.virtualSize, i.diskFormat, i.containerFormat, i.minRAM, i.minDisk,
            i.createdAt.microseconds, i.updatedAt.microseconds, i.id,
        ]
        if insert {
            try db.execute(
                sql: """
                    INSERT INTO images (name, status, visibility, protected, os_hidden, checksum, os_hash_algo,
                        os_hash_value, owner, size, virtual_size, disk_format, container_format, min_ram, min_disk,
                        created_at, updated_at, id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                    """, arguments: args)
        } else {
            try db.execute(
                sql: """
                    UPDATE images SET name=?, status=?, visibility=?, protected=?, os_hidden=?, checksum=?,
                        os_hash_algo=?, os_hash_value=?, owner=?, size=?, virtual_size=?, disk_format=?,
                        container_format=?, min_ram=?, min_disk=?, created_at=?, updated_at=? WHERE id=?
                    """, arguments: args)
        }
        if previous?.properties != i.properties {
            try db.execute(sql: "DELETE FROM image_properties WHERE image_id = ?", arguments: [i.id])
            for (k, v) in i.properties {
                try db.execute(
                    sql: "INSERT INTO image_properties (image_id, name, value) VALUES (?, ?, ?)", arguments: [i.id, k, v])
            }
        }
        if previous?.tags != i.tags {
            try db.execute(sql: "DELETE FROM image_tags WHERE image_id = ?", arguments: [i.id])
            for (n, t) in i.tags.enumerated() {
                try db.execute(
                    sql: "INSERT INTO image_tags (image_id, value, position) VALUES (?, ?, ?)", arguments: [i.id, t, n])
            }
        }
    }

    static let imageColumns = """
        id, name, status, visibility, protected, os_hidden, checksum, os_hash_algo, os_hash_value, owner, size,
        virtual_size, disk_format, container_format, min_ram, min_disk, created_at, updated_at
        """

    /// Loads images in the order of `ids`, with their tags and properties (three queries per 500 images).
    /// Columns are read by position and statements are cached: this is the hot path of every GET and list.
    static func load(ids: [String], db: Database) throws -> [Image] {
        guard !ids.isEmpty else { return [] }
        var byID: [String: Image] = [:]
        byID.reserveCapacity(ids.count)
        for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let args = StatementArguments(chunk)
            let images = try db.cachedStatement(sql: "SELECT \(imageColumns) FROM images WHERE id IN (\(marks))")
            let imageRows = try Row.fetchCursor(images, arguments: args)
            while let row = try imageRows.next() {
                let image = Image(
                    id: row[0], name: row[1], status: ImageStatus(rawValue: row[2]) ?? .queued,
                    visibility: Visibility(rawValue: row[3]) ?? .private, protected: row[4], osHidden: row[5],
                    checksum: row[6], osHashAlgo: row[7], osHashValue: row[8], owner: row[9], size: row[10],
                    virtualSize: row[11], diskFormat: row[12], containerFormat: row[13], minRAM: row[14],
                    minDisk: row[15], createdAt: Timestamp(microseconds: row[16]),
                    updatedAt: Timestamp(microseconds: row[17]))
                byID[image.id] = image
            }
            let properties = try db.cachedStatement(
                sql: "SELECT image_id, name, value FROM image_properties WHERE image_id IN (\(marks))")
            let propertyRows = try Row.fetchCursor(properties, arguments: args)
            while let row = try propertyRows.next() {
                let id: String = row[0]
                byID[id]?.properties[row[1]] = row[2]
            }
            let tags = try db.cachedStatement(
                sql: "SELECT image_id, value FROM image_tags WHERE image_id IN (\(marks)) ORDER BY position")
            let tagRows = try Row.fetchCursor(tags, arguments: args)
            while let row = try tagRows.next() {
                let id: String = row[0]
                byID[id]?.tags.append(row[1])
            }
        }
        return ids.compactMap { byID[$0] }
    }
}
