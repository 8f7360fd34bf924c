import Foundation
import GlimpseCore
import GlimpseStorage
import HTTPTypes
import Testing

@Suite struct ServerLifecycleTests {
    @Test func createShowStopStartRebootDelete() async throws {
        try await withGlimpse { api in
            let image = try await api.image()
            let r = try await api.post(
                "/compute/v2.1/servers",
                json: #"{"server":{"name":"web-1","flavorRef":"1","imageRef":"\#(image)","networks":"none","metadata":{"role":"web"}}}"#,
                version: "2.47")
            #expect(r.status == .accepted, "\(r)")
            let id = try #require(r["server"]?["id"]?.string)
            #expect(r.header("Location") == "http://glimpse.test:9292/compute/v2.1/servers/\(id)")
            #expect(r["server"]?["adminPass"]?.string?.isEmpty == false)
            #expect(r["server"]?["OS-DCF:diskConfig"]?.string == "MANUAL")
            #expect(r["server"]?["security_groups"]?.array?.count == 1)
            #expect(r["server"]?["links"]?.array?.count == 2)

            let s = try await api.waitStatus(id, "ACTIVE")
            #expect(s["OS-EXT-STS:vm_state"]?.string == "active")
            #expect(s["OS-EXT-STS:power_state"]?.int == 1)
            #expect(s["tenant_id"]?.string == "p-alice")
            #expect(s["user_id"]?.string == "alice")
            #expect(s["image"]?["id"]?.string == image)
            #expect(s["flavor"]?["original_name"]?.string == "m1.tiny")
            #expect(s["metadata"]?["role"]?.string == "web")
            #expect(s["addresses"]?.object?.isEmpty == true)
            #expect(s["OS-SRV-USG:launched_at"]?.string != nil)
            // Below 2.47 the flavor is a reference.
            let old = try await api.show(id, version: "2.46")
            #expect(old["server"]?["flavor"]?["id"]?.string == "1")
            #expect(old["server"]?["flavor"]?["original_name"] == nil)

            // The disk is a qcow2 overlay on the compute-owned copy of the image, sized to the flavor.
            let disk = api.dataDirectory + "/compute/disks/\(id).qcow2"
            let info = try run(["qemu-img", "info", "--output=json", disk])
            #expect(info.contains("\"virtual-size\": 1073741824"))
            #expect(info.contains("/compute/base/\(image).raw"))

            #expect(try await api.action(id, #"{"os-stop":null}"#).status == .accepted)
            let stopped = try await api.waitStatus(id, "SHUTOFF")
            #expect(stopped["OS-EXT-STS:vm_state"]?.string == "stopped")
            #expect(stopped["OS-EXT-STS:power_state"]?.int == 4)
            let again = try await api.action(id, #"{"os-stop":null}"#)
            #expect(again.status == .conflict)
            #expect(again["conflictingRequest"]?["message"]?.string == "Cannot 'stop' instance \(id) while it is in vm_state stopped")
            #expect(again["conflictingRequest"]?["code"]?.int == 409)
            let soft = try await api.action(id, #"{"reboot":{"type":"SOFT"}}"#)
            #expect(soft.status == .conflict)

            #expect(try await api.action(id, #"{"os-start":null}"#).status == .accepted)
            _ = try await api.waitStatus(id, "ACTIVE")
            let start = try await api.action(id, #"{"os-start":null}"#)
            #expect(start.status == .conflict)
            #expect(try await api.action(id, #"{"reboot":{"type":"HARD"}}"#).status == .accepted)
            _ = try await api.waitStatus(id, "ACTIVE")
            let badType = try await api.action(id, #"{"reboot":{"type":"WARM"}}"#)
            #expect(badType.status == .badRequest)
            let unknown = try await api.action(id, #"{"os-levitate":null}"#)
            #expect(unknown.status == .badRequest)
            #expect(unknown["badRequest"]?["message"]?.string == "There is no such action: os-levitate")

            #expect(try await api.delete("/compute/v2.1/servers/\(id)").status == .noContent)
            let gone = try await api.show(id)
            #expect(gone.status == .notFound)
            #expect(gone["itemNotFound"]?["message"]?.string == "Instance \(id) could not be found.")
            #expect(!FileManager.default.fileExists(atPath: disk))
            // No server uses the image any more: its base copy goes too.
            #expect(!FileManager.default.fileExists(atPath: api.dataDirectory + "/compute/base/\(image).raw"))
        }
    }

    @Test func createValidation() async throws {
        try await withGlimpse { api in
            let image = try await api.image()
            func create(_ server: String, version: String = "2.47") async throws -> Reply {
                try await api.post("/compute/v2.1/servers", json: #"{"server":\#(server)}"#, version: version)
            }
            // networks is required from 2.37 on.
            let noNet = try await create(#"{"name":"a","flavorRef":"1","imageRef":"\#(image)"}"#)
            #expect(noNet.status == .badRequest)
            #expect(noNet["badRequest"]?["message"]?.string?.contains("'networks' is a required property") == true)
            let oldNoNet = try await create(#"{"name":"a","flavorRef":"1","imageRef":"\#(image)"}"#, version: "2.36")
            #expect(oldNoNet.status == .accepted)
            let noFlavor = try await create(#"{"name":"a","flavorRef":"999","imageRef":"\#(image)","networks":"none"}"#)
            #expect(noFlavor.status == .badRequest)
            let noImage = try await create(
                #"{"name":"a","flavorRef":"1","imageRef":"\#(UUID().uuidString.lowercased())","networks":"none"}"#)
            #expect(noImage.status == .badRequest)
            let extra = try await create(#"{"name":"a","flavorRef":"1","imageRef":"\#(image)","networks":"none","colour":"red"}"#)
            #expect(extra.status == .badRequest)
            let blank = try await create(#"{"name":" a","flavorRef":"1","imageRef":"\#(image)","networks":"none"}"#)
            #expect(blank.status == .badRequest)
            let auto = try await create(#"{"name":"auto","flavorRef":"1","imageRef":"\#(image)","networks":"auto"}"#)
            #expect(auto.status == .accepted)
            let reader = try await api.post(
                "/compute/v2.1/servers", json: #"{"server":{"name":"r","flavorRef":"1","imageRef":"\#(image)","networks":"none"}}"#,
                as: .aliceReader, version: "2.47")
            #expect(reader.status == .forbidden)
            // A queued image cannot boot.
            let queued = try await api.post("/v2/images", json: #"{"name":"q","disk_format":"raw","container_format":"bare"}"#)
            let qid = try #require(queued["id"]?.string)
            let notActive = try await create(#"{"name":"a","flavorRef":"1","imageRef":"\#(qid)","networks":"none"}"#)
            #expect(notActive.status == .badRequest)
        }
    }

    @Test func listFiltersAndProjectConfinement() async throws {
        try await withGlimpse { api in
            let image = try await api.image(properties: ["visibility": "public"], as: .admin)
            let a1 = try await api.server(image: image, name: "alpha-1")
            let a2 = try await api.server(image: image, name: "alpha-2")
            let b1 = try await api.server(image: image, name: "beta-1", as: .bob)
            for (id, who) in [(a1, Who.alice), (a2, .alice), (b1, .bob)] { _ = try await api.waitStatus(id, "ACTIVE", as: who) }

            let mine = try await api.get("/compute/v2.1/servers/detail?deleted=False", version: "2.47")
            let ids = Set(mine["servers"]?.array?.compactMap { $0["id"]?.string } ?? [])
            #expect(ids == [a1, a2])
            // name is a regex.
            let regex = try await api.get("/compute/v2.1/servers?name=%5Ealpha-1%24")
            #expect(regex["servers"]?.array?.compactMap { $0["id"]?.string } == [a1])
            let partial = try await api.get("/compute/v2.1/servers?name=alpha")
            #expect(partial["servers"]?.array?.count == 2)
            let summary = try #require(partial["servers"]?.array?.first)
            #expect(Set(summary.object?.keys.map { $0 } ?? []) == ["id", "name", "links"])
            let status = try await api.get("/compute/v2.1/servers?status=SHUTOFF", version: "2.47")
            #expect(status["servers"]?.array?.isEmpty == true)
            let badStatus = try await api.get("/compute/v2.1/servers?status=FLYING", version: "2.47")
            #expect(badStatus.status == .badRequest)

            // Other projects' servers do not exist for alice.
            #expect(try await api.show(b1).status == .notFound)
            #expect(try await api.action(b1, #"{"os-stop":null}"#).status == .notFound)
            #expect(try await api.delete("/compute/v2.1/servers/\(b1)").status == .notFound)
            let all = try await api.get("/compute/v2.1/servers?all_tenants=1")
            #expect(all.status == .forbidden)
            // Admins see everything with all_tenants, and any server by id.
            let adminAll = try await api.get("/compute/v2.1/servers/detail?all_tenants=True", as: .admin)
            let allIDs = Set(adminAll["servers"]?.array?.compactMap { $0["id"]?.string } ?? [])
            #expect(allIDs == [a1, a2, b1])
            #expect(try await api.show(b1, as: .admin).status == .ok)
            let adminOwn = try await api.get("/compute/v2.1/servers", as: .admin)
            #expect(adminOwn["servers"]?.array?.isEmpty == true)
            let paged = try await api.get("/compute/v2.1/servers?limit=1")
            #expect(paged["servers"]?.array?.count == 1)
            #expect(paged["servers_links"]?.array?.first?["rel"]?.string == "next")
        }
    }
}
