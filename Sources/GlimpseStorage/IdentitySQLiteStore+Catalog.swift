import GRDB
import GlimpseCore

/// Version 6 of the identity schema: the service catalog (regions, services, endpoints). A service's endpoints go
/// with it; an endpoint outlives its region (its region becomes null), as a child region outlives its parent.
extension IdentitySQLiteStore {
    static func registerCatalogMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("v6-identity-catalog") { db in
            try db.execute(
                sql: """
                    CREATE TABLE regions (
                        id TEXT PRIMARY KEY NOT NULL,
                        description TEXT NOT NULL DEFAULT '',
                        parent_region_id TEXT REFERENCES regions(id) ON DELETE SET NULL
                    );
                    CREATE TABLE catalog_services (
                        id TEXT PRIMARY KEY NOT NULL,
                        type TEXT NOT NULL,
                        name TEXT NOT NULL DEFAULT '',
                        description TEXT NOT NULL DEFAULT '',
                        enabled INTEGER NOT NULL DEFAULT 1
                    );
                    CREATE TABLE endpoints (
                        id TEXT PRIMARY KEY NOT NULL,
                        service_id TEXT NOT NULL REFERENCES catalog_services(id) ON DELETE CASCADE,
                        interface TEXT NOT NULL,
                        url TEXT NOT NULL,
                        region_id TEXT REFERENCES regions(id) ON DELETE SET NULL,
                        enabled INTEGER NOT NULL DEFAULT 1
                    );
                    """)
        }
    }

    static func region(_ r: Row) -> IdentityRegion {
        IdentityRegion(id: r["id"], description: r["description"], parentRegionID: r["parent_region_id"])
    }

    static func catalogService(_ r: Row) -> IdentityCatalogService {
        IdentityCatalogService(id: r["id"], type: r["type"], name: r["name"], description: r["description"], enabled: r["enabled"])
    }

    static func endpoint(_ r: Row) -> IdentityEndpoint {
        IdentityEndpoint(
            id: r["id"], serviceID: r["service_id"], interface: r["interface"], url: r["url"], regionID: r["region_id"],
            enabled: r["enabled"])
    }

    func delete(from table: String, id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM \(table) WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func regions() async throws -> [IdentityRegion] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM regions ORDER BY id").map(Self.region) }
    }

    public func insertRegion(_ r: IdentityRegion) async throws {
        try await insert("region") { db in
            try db.execute(
                sql: "INSERT INTO regions (id, description, parent_region_id) VALUES (?, ?, ?)",
                arguments: [r.id, r.description, r.parentRegionID])
        }
    }

    public func updateRegion(_ r: IdentityRegion) async throws {
        try await insert("region") { db in
            try db.execute(
                sql: "UPDATE regions SET description = ?, parent_region_id = ? WHERE id = ?",
                arguments: [r.description, r.parentRegionID, r.id])
        }
    }

    public func deleteRegion(id: String) async throws -> Bool { try await delete(from: "regions", id: id) }

    public func catalogServices() async throws -> [IdentityCatalogService] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM catalog_services ORDER BY type, id").map(Self.catalogService)
        }
    }

    public func insertCatalogService(_ s: IdentityCatalogService) async throws {
        try await insert("service") { db in
            try db.execute(
                sql: "INSERT INTO catalog_services (id, type, name, description, enabled) VALUES (?, ?, ?, ?, ?)",
                arguments: [s.id, s.type, s.name, s.description, s.enabled])
        }
    }

    public func updateCatalogService(_ s: IdentityCatalogService) async throws {
        try await insert("service") { db in
            try db.execute(
                sql: "UPDATE catalog_services SET type = ?, name = ?, description = ?, enabled = ? WHERE id = ?",
                arguments: [s.type, s.name, s.description, s.enabled, s.id])
        }
    }

    public func deleteCatalogService(id: String) async throws -> Bool { try await delete(from: "catalog_services", id: id) }

    public func endpoints() async throws -> [IdentityEndpoint] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM endpoints ORDER BY service_id, interface, id").map(Self.endpoint) }
    }

    public func insertEndpoint(_ e: IdentityEndpoint) async throws {
        try await insert("endpoint") { db in
            try db.execute(
                sql: "INSERT INTO endpoints (id, service_id, interface, url, region_id, enabled) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [e.id, e.serviceID, e.interface, e.url, e.regionID, e.enabled])
        }
    }

    public func updateEndpoint(_ e: IdentityEndpoint) async throws {
        try await insert("endpoint") { db in
            try db.execute(
                sql: "UPDATE endpoints SET service_id = ?, interface = ?, url = ?, region_id = ?, enabled = ? WHERE id = ?",
                arguments: [e.serviceID, e.interface, e.url, e.regionID, e.enabled, e.id])
        }
    }

    public func deleteEndpoint(id: String) async throws -> Bool { try await delete(from: "endpoints", id: id) }
}
