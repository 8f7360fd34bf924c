import Foundation
import GlimpseCore
import HTTPTypes
import Testing

// Regions, services and endpoints through HTTP: CRUD, Keystone's validation, and the token catalog following
// what is stored.
@Suite("Identity catalog administration")
struct CatalogAdminTests {
    static func catalogTypes(_ a: Answer) -> Set<String> {
        Set(a.json["catalog"]?.list.compactMap { $0["type"]?.str } ?? [])
    }

    @Test("the seeded catalog is listed; a new service with an endpoint shows in /auth/catalog; disabling or deleting hides it")
    func servicesAndEndpoints() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let seeded = try await c.call(.get, "/identity/v3/services?type=image", token: admin)
            #expect(seeded.json["services"]?.list.first?["name"]?.str == "glance")
            #expect(try await c.call(.get, "/identity/v3/endpoints?interface=public", token: admin).json["endpoints"]?.list.count == 3)

            let s = try await c.call(.post, "/identity/v3/services", token: admin, json: #"{"service":{"type":"volumev3","name":"cinder"}}"#)
            #expect(s.status == .created, "\(s)")
            let sid = try #require(s.json["service"]?["id"]?.str)
            let badEnabled = try await c.call(
                .post, "/identity/v3/endpoints", token: admin,
                json: #"{"endpoint":{"service_id":"\#(sid)","interface":"public","url":"http://v","enabled":"True"}}"#)
            #expect(badEnabled.status == .badRequest)
            let badInterface = try await c.call(
                .post, "/identity/v3/endpoints", token: admin,
                json: #"{"endpoint":{"service_id":"\#(sid)","interface":"private","url":"http://v"}}"#)
            #expect(badInterface.status == .badRequest)
            let e = try await c.call(
                .post, "/identity/v3/endpoints", token: admin,
                json: #"{"endpoint":{"service_id":"\#(sid)","interface":"public","url":"http://volumes","region":"RegionTwo"}}"#)
            #expect(e.status == .created, "\(e)")
            let eid = try #require(e.json["endpoint"]?["id"]?.str)
            #expect(e.json["endpoint"]?["region_id"]?.str == "RegionTwo")
            #expect(try await c.call(.get, "/identity/v3/regions/RegionTwo", token: admin).status == .ok)

            let catalog = try await c.call(.get, "/identity/v3/auth/catalog", token: admin)
            #expect(Self.catalogTypes(catalog).contains("volumev3"))
            let patched = try await c.call(.patch, "/identity/v3/services/\(sid)", token: admin, json: #"{"service":{"enabled":false}}"#)
            #expect(patched.json["service"]?["enabled"] == .bool(false))
            #expect(!Self.catalogTypes(try await c.call(.get, "/identity/v3/auth/catalog", token: admin)).contains("volumev3"))
            let moved = try await c.call(.patch, "/identity/v3/endpoints/\(eid)", token: admin, json: #"{"endpoint":{"url":"http://vol2"}}"#)
            #expect(moved.json["endpoint"]?["url"]?.str == "http://vol2")

            #expect(try await c.call(.delete, "/identity/v3/services/\(sid)", token: admin).status == .noContent)
            #expect(try await c.call(.get, "/identity/v3/endpoints/\(eid)", token: admin).status == .notFound)
            #expect(try await c.call(.get, "/identity/v3/services/\(sid)", token: admin).status == .notFound)
        }
    }

    @Test("regions: create with and without an id, parent filter, update, duplicates 409, loops 400, delete")
    func regions() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            let put = try await c.call(.put, "/identity/v3/regions/north", token: admin, json: #"{"region":{"description":"N"}}"#)
            #expect(put.status == .created, "\(put)")
            #expect(try await c.call(.put, "/identity/v3/regions/north", token: admin, json: #"{"region":{}}"#).status == .conflict)
            let child = try await c.call(.post, "/identity/v3/regions", token: admin, json: #"{"region":{"parent_region_id":"north"}}"#)
            #expect(child.status == .created)
            let cid = try #require(child.json["region"]?["id"]?.str)
            let kids = try await c.call(.get, "/identity/v3/regions?parent_region_id=north", token: admin)
            #expect(kids.json["regions"]?.list.compactMap { $0["id"]?.str } == [cid])
            let loop = try await c.call(.patch, "/identity/v3/regions/north", token: admin, json: #"{"region":{"parent_region_id":"\#(cid)"}}"#)
            #expect(loop.status == .badRequest)
            let upd = try await c.call(.patch, "/identity/v3/regions/\(cid)", token: admin, json: #"{"region":{"description":"C"}}"#)
            #expect(upd.json["region"]?["description"]?.str == "C")
            #expect(try await c.call(.delete, "/identity/v3/regions/north", token: admin).status == .forbidden)
            #expect(try await c.call(.delete, "/identity/v3/regions/\(cid)", token: admin).status == .noContent)
            #expect(try await c.call(.delete, "/identity/v3/regions/north", token: admin).status == .noContent)
            #expect(try await c.call(.get, "/identity/v3/regions/north", token: admin).status == .notFound)
        }
    }
}
