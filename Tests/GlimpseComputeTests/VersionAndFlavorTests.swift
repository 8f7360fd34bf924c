import Foundation
import GlimpseCore
import HTTPTypes
import Testing

@Suite struct VersionTests {
    @Test func versionDocumentsNeedNoToken() async throws {
        try await withGlimpse { api in
            let root = try await api.get("/compute")
            #expect(root.status == .ok)
            let v = try #require(root["versions"]?.array?.first)
            #expect(v["id"]?.string == "v2.1")
            #expect(v["min_version"]?.string == "2.1")
            #expect(v["version"]?.string == "2.47")
            #expect(v["links"]?.array?.first?["href"]?.string == "http://glimpse.test:9292/compute/v2.1/")
            for path in ["/compute/v2.1", "/compute/v2.1/"] {
                let one = try await api.get(path)
                #expect(one.status == .ok, "\(path): \(one)")
                #expect(one["version"]?["status"]?.string == "CURRENT")
                #expect(one["version"]?["version"]?.string == "2.47")
            }
        }
    }

    @Test func negotiation() async throws {
        try await withGlimpse { api in
            // No header: 2.1, echoed in both headers, with Vary.
            let none = try await api.get("/compute/v2.1/flavors")
            #expect(none.status == .ok)
            #expect(none.header("OpenStack-API-Version") == "compute 2.1")
            #expect(none.header("X-OpenStack-Nova-API-Version") == "2.1")
            #expect(none.header("Vary")?.contains("OpenStack-API-Version") == true)
            let latest = try await api.get("/compute/v2.1/flavors", version: "latest")
            #expect(latest.header("OpenStack-API-Version") == "compute 2.47")
            let legacy = try await api.get(
                "/compute/v2.1/flavors", headers: [HTTPField.Name("X-OpenStack-Nova-API-Version")!: "2.45"])
            #expect(legacy.header("X-OpenStack-Nova-API-Version") == "2.45")
            // The service-prefixed header wins over the legacy one; other services are ignored.
            let both = try await api.get(
                "/compute/v2.1/flavors",
                headers: [
                    HTTPField.Name("OpenStack-API-Version")!: "image 2.5, compute 2.37",
                    HTTPField.Name("X-OpenStack-Nova-API-Version")!: "2.45",
                ])
            #expect(both.header("OpenStack-API-Version") == "compute 2.37")
            let tooNew = try await api.get("/compute/v2.1/flavors", version: "2.48")
            #expect(tooNew.status == .notAcceptable)
            #expect(tooNew["computeFault"]?["code"]?.int == 406)
            #expect(tooNew["computeFault"]?["message"]?.string?.contains("maximum is 2.47") == true)
            let tooOld = try await api.get("/compute/v2.1/flavors", version: "2.0")
            #expect(tooOld.status == .notAcceptable)
            let bad = try await api.get("/compute/v2.1/flavors", version: "two")
            #expect(bad.status == .badRequest)
            #expect(bad["badRequest"]?["code"]?.int == 400)
        }
    }
}

@Suite struct FlavorTests {
    @Test func devstackFlavors() async throws {
        try await withGlimpse { api in
            let list = try await api.get("/compute/v2.1/flavors", version: "2.47")
            #expect(list.status == .ok)
            let names = list["flavors"]?.array?.compactMap { $0["name"]?.string } ?? []
            for n in ["m1.tiny", "m1.small", "m1.medium", "m1.large"] { #expect(names.contains(n)) }
            let detail = try await api.get("/compute/v2.1/flavors/detail?is_public=None", version: "2.47")
            let tiny = try #require(detail["flavors"]?.array?.first { $0["name"]?.string == "m1.tiny" })
            #expect(tiny["id"]?.string == "1")
            #expect(tiny["ram"]?.int == 512)
            #expect(tiny["vcpus"]?.int == 1)
            #expect(tiny["disk"]?.int == 1)
            #expect(tiny["os-flavor-access:is_public"] == .bool(true))
            let small = try await api.get("/compute/v2.1/flavors/2")
            #expect(small["flavor"]?["name"]?.string == "m1.small")
            let missing = try await api.get("/compute/v2.1/flavors/m1.tiny")
            #expect(missing.status == .notFound)
            #expect(missing["itemNotFound"]?["message"]?.string == "Flavor m1.tiny could not be found.")
        }
    }

    @Test func onlyAdminsManageFlavors() async throws {
        try await withGlimpse { api in
            let body = #"{"flavor":{"name":"g1.test","ram":256,"vcpus":1,"disk":2,"id":"g1"}}"#
            let denied = try await api.post("/compute/v2.1/flavors", json: body, as: .alice)
            #expect(denied.status == .forbidden)
            #expect(denied["forbidden"]?["code"]?.int == 403)
            let created = try await api.post("/compute/v2.1/flavors", json: body, as: .admin)
            #expect(created.status == .ok, "\(created)")
            #expect(created["flavor"]?["id"]?.string == "g1")
            let again = try await api.post("/compute/v2.1/flavors", json: body, as: .admin)
            #expect(again.status == .conflict)
            #expect(try await api.get("/compute/v2.1/flavors/g1").status == .ok)
            #expect(try await api.delete("/compute/v2.1/flavors/g1", as: .alice).status == .forbidden)
            #expect(try await api.delete("/compute/v2.1/flavors/g1", as: .admin).status == .accepted)
            #expect(try await api.get("/compute/v2.1/flavors/g1").status == .notFound)
            let bad = try await api.post("/compute/v2.1/flavors", json: #"{"flavor":{"name":"x","vcpus":1,"disk":1}}"#, as: .admin)
            #expect(bad.status == .badRequest)
        }
    }
}
