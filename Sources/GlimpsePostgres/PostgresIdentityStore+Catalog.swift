import GlimpseCore
import GlimpseStorage
import PostgresNIO

/// The service catalog (regions, services, endpoints). A service's endpoints go with it; an endpoint outlives its
/// region (its region becomes null), as a child region outlives its parent.
extension PostgresIdentityStore {
    public func regions() async throws -> [IdentityRegion] {
        try await read { db in
            var result: [IdentityRegion] = []
            for try await (id, description, parent) in try await db.query(
                "SELECT id, description, parent_region_id FROM identity_regions ORDER BY id", logger: logger
            ).decode((String, String, String?).self) {
                result.append(IdentityRegion(id: id, description: description, parentRegionID: parent))
            }
            return result
        }
    }

    public func insertRegion(_ r: IdentityRegion) async throws {
        try await storing("region") { db in
            _ = try await db.query(
                "INSERT INTO identity_regions (id, description, parent_region_id) VALUES (\(r.id), \(r.description), \(r.parentRegionID))",
                logger: logger)
        }
    }

    public func updateRegion(_ r: IdentityRegion) async throws {
        try await storing("region") { db in
            _ = try await db.query(
                "UPDATE identity_regions SET description = \(r.description), parent_region_id = \(r.parentRegionID) WHERE id = \(r.id)",
                logger: logger)
        }
    }

    public func deleteRegion(id: String) async throws -> Bool {
        try await changed("region", "DELETE FROM identity_regions WHERE id = \(id) RETURNING id")
    }

    public func catalogServices() async throws -> [IdentityCatalogService] {
        try await read { db in
            var result: [IdentityCatalogService] = []
            for try await (id, type, name, description, enabled) in try await db.query(
                "SELECT id, type, name, description, enabled FROM identity_catalog_services ORDER BY type, id", logger: logger
            ).decode((String, String, String, String, Bool).self) {
                result.append(IdentityCatalogService(id: id, type: type, name: name, description: description, enabled: enabled))
            }
            return result
        }
    }

    public func insertCatalogService(_ s: IdentityCatalogService) async throws {
        try await storing("service") { db in
            _ = try await db.query(
                """
                INSERT INTO identity_catalog_services (id, type, name, description, enabled)
                VALUES (\(s.id), \(s.type), \(s.name), \(s.description), \(s.enabled))
                """, logger: logger)
        }
    }

    public func updateCatalogService(_ s: IdentityCatalogService) async throws {
        try await storing("service") { db in
            _ = try await db.query(
                """
                UPDATE identity_catalog_services SET type = \(s.type), name = \(s.name), description = \(s.description),
                    enabled = \(s.enabled) WHERE id = \(s.id)
                """, logger: logger)
        }
    }

    public func deleteCatalogService(id: String) async throws -> Bool {
        try await changed("service", "DELETE FROM identity_catalog_services WHERE id = \(id) RETURNING id")
    }

    public func endpoints() async throws -> [IdentityEndpoint] {
        try await read { db in
            var result: [IdentityEndpoint] = []
            for try await (id, serviceID, interface, url, regionID, enabled) in try await db.query(
                """
                SELECT id, service_id, interface, url, region_id, enabled FROM identity_endpoints
                ORDER BY service_id, interface, id
                """, logger: logger
            ).decode((String, String, String, String, String?, Bool).self) {
                result.append(IdentityEndpoint(
                    id: id, serviceID: serviceID, interface: interface, url: url, regionID: regionID, enabled: enabled))
            }
            return result
        }
    }

    public func insertEndpoint(_ e: IdentityEndpoint) async throws {
        try await storing("endpoint") { db in
            _ = try await db.query(
                """
                INSERT INTO identity_endpoints (id, service_id, interface, url, region_id, enabled)
                VALUES (\(e.id), \(e.serviceID), \(e.interface), \(e.url), \(e.regionID), \(e.enabled))
                """, logger: logger)
        }
    }

    public func updateEndpoint(_ e: IdentityEndpoint) async throws {
        try await storing("endpoint") { db in
            _ = try await db.query(
                """
                UPDATE identity_endpoints SET service_id = \(e.serviceID), interface = \(e.interface), url = \(e.url),
                    region_id = \(e.regionID), enabled = \(e.enabled) WHERE id = \(e.id)
                """, logger: logger)
        }
    }

    public func deleteEndpoint(id: String) async throws -> Bool {
        try await changed("endpoint", "DELETE FROM identity_endpoints WHERE id = \(id) RETURNING id")
    }
}
