import GlimpseCore
import GlimpseStorage
import PostgresNIO

/// Image locations in their own table; they go with their image (ON DELETE CASCADE).
extension PostgresMetadataStore {
    public func addLocation(_ location: ImageLocation, imageID: String) async throws {
        try await transaction { db in
            // Locking the image row makes concurrent appends take consecutive positions.
            let image = try await db.query("SELECT 1 FROM images WHERE id = \(imageID) FOR UPDATE", logger: logger).collect()
            if image.isEmpty { throw GlimpseError.noImage(imageID) }
            try await db.query(
                """
                INSERT INTO image_locations (image_id, position, url, metadata)
                SELECT \(imageID), COALESCE(MAX(position) + 1, 0), \(location.url), \(location.metadataJSON)
                FROM image_locations WHERE image_id = \(imageID)
                """, logger: logger)
        }
    }

    public func locations(imageID: String) async throws -> [ImageLocation] {
        try await read { db in
            var result: [ImageLocation] = []
            for try await (url, metadata) in try await db.query(
                "SELECT url, metadata FROM image_locations WHERE image_id = \(imageID) ORDER BY position", logger: logger
            ).decode((String, String).self) {
                result.append(ImageLocation(url: url, metadataJSON: metadata))
            }
            return result
        }
    }
}
