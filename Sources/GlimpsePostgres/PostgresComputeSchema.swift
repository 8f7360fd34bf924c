import Foundation
import GlimpseCore
import PostgresNIO

/// The Compute store's schema, mirroring the SQLite backend's: flavors and servers, each record one JSON
/// document with the columns that are queried beside it. Server serials come from a sequence so that nodes
/// inserting at once never pick the same one.
enum PostgresComputeSchema {
    static func migrations(defaultFlavors: [Flavor]) throws -> PostgresMigrations {
        var seed: [PostgresQuery] = []
        for (position, flavor) in defaultFlavors.enumerated() {
            let record = try encode(flavor)
            seed.append(
                "INSERT INTO flavors (id, name, position, record) VALUES (\(flavor.id), \(flavor.name), \(Int64(position)), \(record))")
        }
        return PostgresMigrations(migrations: [
            .init(version: "compute-v1", statements: [
                """
                CREATE TABLE flavors (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    position BIGINT NOT NULL,
                    record TEXT NOT NULL)
                """,
                "CREATE SEQUENCE server_serials",
                """
                CREATE TABLE servers (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    serial BIGINT NOT NULL UNIQUE,
                    project_id TEXT NOT NULL,
                    image_id TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    record TEXT NOT NULL)
                """,
                "CREATE INDEX servers_project ON servers (project_id, created_at)",
                "CREATE INDEX servers_image ON servers (image_id)",
            ] + seed),
        ])
    }

    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
