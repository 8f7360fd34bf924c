import GRDB
import GlimpseCore

/// One location of an image (Image API 2.17 `POST/GET /v2/images/{id}/locations`): where its data came from.
public struct ImageLocation: Sendable, Equatable {
    public var url: String
    /// The location's metadata as JSON object text (`{}` when there is none).
    public var metadataJSON: String

    public init(url: String, metadataJSON: String = "{}") {
        self.url = url
        self.metadataJSON = metadataJSON
    }
}

/// Image locations in their own table; they go with their image (ON DELETE CASCADE).
extension SQLiteMetadataStore {
    static func registerLocationMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("v3-image-locations") { db in
            try db.execute(
                sql: """
                    CREATE TABLE image_locations (
                        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        url TEXT NOT NULL,
                        metadata TEXT NOT NULL DEFAULT '{}',
                        PRIMARY KEY (image_id, position)
                    ) WITHOUT ROWID;
                    """)
        }
    }

    public func addLocation(_ location: ImageLocation, imageID: String) async throws {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM images WHERE id = ?", arguments: [imageID]) == true else {
                throw GlimpseError.noImage(imageID)
            }
            let next = try Int.fetchOne(
                db, sql: "SELECT COALESCE(MAX(position) + 1, 0) FROM image_locations WHERE image_id = ?",
                arguments: [imageID]) ?? 0
            try db.execute(
                sql: "INSERT INTO image_locations (image_id, position, url, metadata) VALUES (?, ?, ?, ?)",
                arguments: [imageID, next, location.url, location.metadataJSON])
        }
    }

    public func locations(imageID: String) async throws -> [ImageLocation] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT url, metadata FROM image_locations WHERE image_id = ? ORDER BY position",
                arguments: [imageID]
            ).map { ImageLocation(url: $0["url"], metadataJSON: $0["metadata"]) }
        }
    }
}
