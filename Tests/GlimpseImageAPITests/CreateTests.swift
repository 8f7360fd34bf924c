import HTTPTypes
import Testing

/// `POST /v2/images` (wire facts A.2, C.3, C.4, C.6; glance-observed 04, 05, 19–21).
@Suite struct CreateTests {
    @Test func createReturns201WithLocationAndDefaults() async throws {
        try await withGlimpse(publicURL: "http://glimpse.test:9292") { api in
            let r = try await api.post(
                "/v2/images", json: #"{"name":"observe-1","disk_format":"raw","container_format":"bare"}"#)
            #expect(r.status == .created, "\(r)")
            #expect(r.header("Content-Type") == "application/json")
            let id = try #require(r["id"]?.string)
            #expect(id.count == 36 && id == id.lowercased())
            #expect(r.header("Location") == "http://glimpse.test:9292/v2/images/\(id)")
            let i = r.json
            #expect(i["name"]?.string == "observe-1")
            #expect(i["disk_format"]?.string == "raw")
            #expect(i["container_format"]?.string == "bare")
            #expect(i["visibility"]?.string == "shared")
            #expect(i["status"]?.string == "queued")
            #expect(i["protected"]?.bool == false)
            #expect(i["os_hidden"]?.bool == false)
            #expect(i["min_ram"]?.int == 0)
            #expect(i["min_disk"]?.int == 0)
            #expect(i["owner"]?.string == "p-owner")
            #expect(i["tags"]?.array == [])
            for key in ["size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value"] {
                #expect(i[key]?.isNull == true, "\(key) must be present and null")
            }
            #expect(i["self"]?.string == "/v2/images/\(id)")
            #expect(i["file"]?.string == "/v2/images/\(id)/file")
            #expect(i["schema"]?.string == "/v2/schemas/image")
            let created = try #require(i["created_at"]?.string)
            #expect(created.count == 20 && created.hasSuffix("Z"), "ISO 8601 with whole seconds: \(created)")
            #expect(i["updated_at"]?.string == created)
            #expect(i["stores"] == nil, "no data yet, no stores")
            #expect(i["locations"] == nil && i["direct_url"] == nil)

            // The stored image reads back the same.
            let shown = try await api.get("/v2/images/\(id)")
            #expect(shown.status == .ok)
            #expect(shown.json == i)
        }
    }

    @Test func emptyBodyObjectMakesANamelessImage() async throws {
        try await withGlimpse { api in
            let r = try await api.post("/v2/images", json: "{}")
            #expect(r.status == .created, "\(r)")
            for key in ["name", "disk_format", "container_format"] { #expect(r[key]?.isNull == true) }
        }
    }

    @Test func allOptionalAttributes() async throws {
        try await withGlimpse { api in
            let r = try await api.post(
                "/v2/images",
                json: #"""
                    {"name":"observe-2","disk_format":"qcow2","container_format":"bare","visibility":"private",
                     "min_disk":1,"min_ram":512,"tags":["t1","t2","t1"],"protected":true,"os_hidden":true,
                     "custom_prop":"v"}
                    """#)
            #expect(r.status == .created, "\(r)")
            let i = r.json
            #expect(i["disk_format"]?.string == "qcow2")
            #expect(i["visibility"]?.string == "private")
            #expect(i["min_disk"]?.int == 1)
            #expect(i["min_ram"]?.int == 512)
            #expect(i["tags"]?.strings?.sorted() == ["t1", "t2"])
            #expect(i["protected"]?.bool == true)
            #expect(i["os_hidden"]?.bool == true)
            #expect(i["custom_prop"]?.string == "v")
        }
    }

    @Test func clientChosenID() async throws {
        try await withGlimpse { api in
            let id = "5C9E2D1B-0000-4000-8000-00000000ABCD"
            let r = try await api.post("/v2/images", json: #"{"id":"\#(id)","name":"mine"}"#)
            #expect(r.status == .created, "\(r)")
            #expect(r["id"]?.string == id.lowercased())
            let again = try await api.post("/v2/images", json: #"{"id":"\#(id.lowercased())"}"#)
            expectError(again, .conflict)
            expectError(try await api.post("/v2/images", json: #"{"id":"not-a-uuid"}"#), .badRequest)
        }
    }

    /// What the SDK always sends (A.2): extra properties with dots in their names and empty values.
    @Test func sdkExtraPropertiesWithDotsAndEmptyValues() async throws {
        try await withGlimpse { api in
            let r = try await api.post(
                "/v2/images",
                json: #"""
                    {"name":"NAME","container_format":"bare","disk_format":"raw","visibility":"community",
                     "hw_disk_bus":"scsi","owner_specified.openstack.md5":"","owner_specified.openstack.sha256":"",
                     "owner_specified.openstack.object":"images/NAME"}
                    """#)
            #expect(r.status == .created, "\(r)")
            #expect(r["visibility"]?.string == "community")
            #expect(r["hw_disk_bus"]?.string == "scsi")
            #expect(r["owner_specified.openstack.md5"]?.string == "")
            #expect(r["owner_specified.openstack.sha256"]?.string == "")
            #expect(r["owner_specified.openstack.object"]?.string == "images/NAME")
            let id = try #require(r["id"]?.string)
            let shown = try await api.get("/v2/images/\(id)")
            #expect(shown["owner_specified.openstack.md5"]?.string == "")
        }
    }

    @Test(arguments: [
        "status", "created_at", "updated_at", "checksum", "size", "virtual_size", "os_hash_algo", "os_hash_value",
        "self", "file", "schema", "direct_url", "stores",
    ])
    func readOnlyAttributeIs403(key: String) async throws {
        try await withGlimpse { api in
            let r = try await api.post("/v2/images", json: #"{"name":"bad","\#(key)":"active"}"#)
            expectError(r, .forbidden, containing: key)
            #expect(try await api.listIDs(as: .owner).isEmpty, "nothing was created")
        }
    }

    @Test func readOnlyStatusMessage() async throws {
        try await withGlimpse { api in
            let r = try await api.post("/v2/images", json: #"{"name":"bad","status":"active"}"#)
            expectError(r, .forbidden, containing: "Attribute 'status' is read-only.")
        }
    }

    @Test(arguments: ["os_glance_x", "os_glance_import_task", "location", "deleted", "deleted_at"])
    func reservedAttributeIs403(key: String) async throws {
        try await withGlimpse { api in
            let r = try await api.post("/v2/images", json: #"{"name":"bad","\#(key)":"x"}"#)
            expectError(r, .forbidden, containing: key)
        }
    }

    @Test(arguments: [
        #"{"disk_format":"floppy"}"#, #"{"container_format":"crate"}"#, #"{"visibility":"everyone"}"#,
        #"{"visibility":null}"#, #"{"min_ram":"512"}"#, #"{"min_disk":1.5}"#, #"{"protected":"yes"}"#,
        #"{"protected":1}"#, #"{"os_hidden":"true"}"#, #"{"name":5}"#, #"{"tags":"t1"}"#, #"{"tags":[1]}"#,
        #"{"custom":5}"#, #"{"custom":true}"#, #"{"custom":null}"#, #"{"custom":["a"]}"#, #"{"owner":7}"#,
    ])
    func badEnumOrTypeIs400(body: String) async throws {
        try await withGlimpse { api in
            let r = try await api.post("/v2/images", json: body)
            expectError(r, .badRequest)
        }
    }

    @Test func badDiskFormatMessageNamesTheValue() async throws {
        try await withGlimpse { api in
            let r = try await api.post(
                "/v2/images", json: #"{"name":"bad","disk_format":"floppy","container_format":"bare"}"#)
            expectError(r, .badRequest, containing: "'floppy' is not one of")
        }
    }

    @Test func tooLongValuesAre400() async throws {
        try await withGlimpse { api in
            let long = String(repeating: "n", count: 256)
            expectError(try await api.post("/v2/images", json: #"{"name":"\#(long)"}"#), .badRequest)
            expectError(try await api.post("/v2/images", json: #"{"tags":["\#(long)"]}"#), .badRequest)
            expectError(try await api.post("/v2/images", json: #"{"\#(long)":"v"}"#), .badRequest)
            let ok = String(repeating: "n", count: 255)
            #expect(try await api.post("/v2/images", json: #"{"name":"\#(ok)","\#(ok)":"v"}"#).status == .created)
        }
    }

    @Test(arguments: ["{", "not json", "", #"{"name":"x",}"#, #"{"tags":["a",]}"#, #"{"name":"x"} trailing"#])
    func malformedJSONIs400(body: String) async throws {
        try await withGlimpse { api in
            let r = try await api.post("/v2/images", json: body)
            expectError(r, .badRequest)
        }
    }

    /// Commas and brackets inside strings are data, not syntax.
    @Test func punctuationInsideStrings() async throws {
        try await withGlimpse { api in
            let r = try await api.post("/v2/images", json: #"{"name":"a,}","note":"x, ]\",}","tags":["b,]"]}"#)
            #expect(r.status == .created, "\(r)")
            #expect(r["name"]?.string == "a,}")
            #expect(r["note"]?.string == #"x, ]",}"#)
            #expect(r["tags"]?.strings == ["b,]"])
        }
    }

    @Test(arguments: ["[]", #"["name"]"#, #""name""#, "42", "null"])
    func nonObjectBodyIs400(body: String) async throws {
        try await withGlimpse { api in
            let r = try await api.post("/v2/images", json: body)
            expectError(r, .badRequest)
        }
    }

    @Test func ownerSpoofingByNonAdminIs403() async throws {
        try await withGlimpse { api in
            let r = try await api.post("/v2/images", json: #"{"name":"x","owner":"p-other"}"#, as: .owner)
            expectError(r, .forbidden, containing: "p-other")
            #expect(try await api.listIDs(as: .admin).isEmpty)
            // Naming one's own project is fine.
            let own = try await api.post("/v2/images", json: #"{"name":"x","owner":"p-owner"}"#, as: .owner)
            #expect(own.status == .created)
            #expect(own["owner"]?.string == "p-owner")
            // An admin may create images for any project.
            let admin = try await api.post("/v2/images", json: #"{"name":"x","owner":"p-other"}"#, as: .admin)
            #expect(admin.status == .created, "\(admin)")
            #expect(admin["owner"]?.string == "p-other")
        }
    }

    @Test func publicizeByNonAdminIs403() async throws {
        try await withGlimpse { api in
            let r = try await api.post("/v2/images", json: #"{"name":"x","visibility":"public"}"#, as: .owner)
            expectError(r, .forbidden, containing: "publicize_image")
            let admin = try await api.post("/v2/images", json: #"{"name":"x","visibility":"public"}"#, as: .admin)
            #expect(admin.status == .created)
            #expect(admin["visibility"]?.string == "public")
        }
    }

    @Test(arguments: ["private", "shared", "community"])
    func nonAdminMemberMaySetOtherVisibilities(visibility: String) async throws {
        try await withGlimpse { api in
            let r = try await api.post("/v2/images", json: #"{"visibility":"\#(visibility)"}"#, as: .owner)
            #expect(r.status == .created, "\(r)")
            #expect(r["visibility"]?.string == visibility)
        }
    }

    @Test func readerCannotCreate() async throws {
        try await withGlimpse { api in
            let r = try await api.post("/v2/images", json: #"{"name":"x"}"#, as: .ownerReader)
            expectError(r, .forbidden)
        }
    }

    @Test func propertyQuota() async throws {
        try await withGlimpse { api in
            func body(_ n: Int) -> String {
                "{" + (0..<n).map { #""prop_\#($0)":"v""# }.joined(separator: ",") + "}"
            }
            let ok = try await api.post("/v2/images", json: body(128))
            #expect(ok.status == .created, "\(ok)")
            #expect(ok.json.object?.keys.filter { $0.hasPrefix("prop_") }.count == 128)
            expectError(try await api.post("/v2/images", json: body(129)), .contentTooLarge)
        }
    }

    @Test func tagQuota() async throws {
        try await withGlimpse { api in
            func body(_ n: Int) -> String {
                #"{"tags":["# + (0..<n).map { #""t\#($0)""# }.joined(separator: ",") + "]}"
            }
            let ok = try await api.post("/v2/images", json: body(128))
            #expect(ok.status == .created, "\(ok)")
            #expect(ok["tags"]?.array?.count == 128)
            expectError(try await api.post("/v2/images", json: body(129)), .contentTooLarge)
        }
    }
}
