import GlimpseCore
import Logging
import PostgresNIO

/// Reads and writes whole `Image` records: the `images` row plus its properties and tags.
enum PostgresImageRows {
    /// Loads images in the order of `ids` (three queries whatever their number). `lock` takes the rows'
    /// write locks (`FOR UPDATE`) so the caller's transaction owns them until it ends.
    static func load(ids: [String], lock: Bool = false, on db: PostgresConnection, logger: Logger) async throws -> [Image] {
        guard !ids.isEmpty else { return [] }
        var byID: [String: Image] = [:]
        byID.reserveCapacity(ids.count)
        let select: PostgresQuery = lock
            ? """
              SELECT id, name, status, visibility, protected, os_hidden, checksum, os_hash_algo, os_hash_value, owner,
                  size, virtual_size, disk_format, container_format, min_ram, min_disk, created_at, updated_at
              FROM images WHERE id = ANY(\(ids)) FOR UPDATE
              """
            : """
              SELECT id, name, status, visibility, protected, os_hidden, checksum, os_hash_algo, os_hash_value, owner,
                  size, virtual_size, disk_format, container_format, min_ram, min_disk, created_at, updated_at
              FROM images WHERE id = ANY(\(ids))
              """
        let rows = try await db.query(select, logger: logger).decode(
            (String, String?, String, String, Bool, Bool, String?, String?, String?, String?, Int64?, Int64?, String?,
             String?, Int64, Int64, Int64, Int64).self)
        for try await r in rows {
            byID[r.0] = Image(
                id: r.0, name: r.1, status: ImageStatus(rawValue: r.2) ?? .queued,
                visibility: Visibility(rawValue: r.3) ?? .private, protected: r.4, osHidden: r.5, checksum: r.6,
                osHashAlgo: r.7, osHashValue: r.8, owner: r.9, size: r.10, virtualSize: r.11, diskFormat: r.12,
                containerFormat: r.13, minRAM: r.14, minDisk: r.15, createdAt: Timestamp(microseconds: r.16),
                updatedAt: Timestamp(microseconds: r.17))
        }
        for try await (id, name, value) in try await db.query(
            "SELECT image_id, name, value FROM image_properties WHERE image_id = ANY(\(ids))", logger: logger
        ).decode((String, String, String).self) {
            byID[id]?.properties[name] = value
        }
        for try await (id, value) in try await db.query(
            "SELECT image_id, value FROM image_tags WHERE image_id = ANY(\(ids)) ORDER BY image_id, position",
            logger: logger
        ).decode((String, String).self) {
            byID[id]?.tags.append(value)
        }
        return ids.compactMap { byID[$0] }
    }

    /// Writes every column of an existing row, and the properties and tags when they differ from `previous`
    /// (nil: the row was just inserted and has none yet).
    static func write(_ i: Image, previous: Image?, on db: PostgresConnection, logger: Logger) async throws {
        try await db.query(
            """
            UPDATE images SET name = \(i.name), status = \(i.status.rawValue), visibility = \(i.visibility.rawValue),
                protected = \(i.protected), os_hidden = \(i.osHidden), checksum = \(i.checksum),
                os_hash_algo = \(i.osHashAlgo), os_hash_value = \(i.osHashValue), owner = \(i.owner), size = \(i.size),
                virtual_size = \(i.virtualSize), disk_format = \(i.diskFormat), container_format = \(i.containerFormat),
                min_ram = \(i.minRAM), min_disk = \(i.minDisk), created_at = \(i.createdAt.microseconds),
                updated_at = \(i.updatedAt.microseconds)
            WHERE id = \(i.id)
            """, logger: logger)
        if previous?.properties != i.properties {
            if previous != nil { try await db.query("DELETE FROM image_properties WHERE image_id = \(i.id)", logger: logger) }
            if !i.properties.isEmpty {
                let names = Array(i.properties.keys)
                let values = names.map { i.properties[$0] ?? "" }
                try await db.query(
                    """
                    INSERT INTO image_properties (image_id, name, value)
                    SELECT \(i.id), n, v FROM unnest(\(names)::TEXT[], \(values)::TEXT[]) AS p(n, v)
                    """, logger: logger)
            }
        }
        if previous?.tags != i.tags {
            if previous != nil { try await db.query("DELETE FROM image_tags WHERE image_id = \(i.id)", logger: logger) }
            if !i.tags.isEmpty {
                try await db.query(
                    """
                    INSERT INTO image_tags (image_id, value, position)
                    SELECT \(i.id), v, o - 1 FROM unnest(\(i.tags)::TEXT[]) WITH ORDINALITY AS t(v, o)
                    """, logger: logger)
            }
        }
    }
}
