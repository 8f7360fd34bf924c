import HTTPTypes
import Testing

/// `PATCH /v2/images/{id}` (wire facts A.7, C.4; glance-observed 22–25, 28).
@Suite struct PatchTests {
    @Test(arguments: [Patch.v21, Patch.v20, "application/openstack-images-v2.1-json-patch; charset=UTF-8"])
    func bothMediaTypes(type: String) async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let before = try await api.image(id)
            try await Task.sleep(for: .milliseconds(1100))
            let r = try await api.patch(
                id, #"[{"op":"replace","path":"/name","value":"renamed"},{"op":"add","path":"/hw_disk_bus","value":"scsi"}]"#,
                type: type)
            #expect(r.status == .ok, "\(r)")
            #expect(r.header("Content-Type") == "application/json")
            #expect(r["name"]?.string == "renamed")
            #expect(r["hw_disk_bus"]?.string == "scsi")
            #expect(r["id"]?.string == id)
            #expect(r["updated_at"]?.string != before["updated_at"]?.string, "updated_at moves")
            #expect(r["created_at"] == before["created_at"])
            // The change is stored.
            #expect(try await api.image(id) == r.json)
        }
    }

    @Test(arguments: ["application/json", "text/plain", "application/json-patch+json"])
    func otherMediaTypesAre415WithAcceptPatch(type: String) async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let r = try await api.patch(id, #"[{"op":"replace","path":"/name","value":"x"}]"#, type: type)
            expectError(r, .unsupportedMediaType)
            let accept = try #require(r.header("Accept-Patch"))
            #expect(accept.contains(Patch.v21) && accept.contains(Patch.v20))
            #expect(try await api.image(id)["name"]?.string == "img", "nothing changed")
        }
    }

    @Test func missingContentTypeIs415() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let r = try await api.send(
                .patch, "/v2/images/\(id)", body: .init(string: #"[{"op":"replace","path":"/name","value":"x"}]"#))
            expectError(r, .unsupportedMediaType)
            #expect(r.header("Accept-Patch") != nil)
        }
    }

    /// The SDK sends `add` even for keys that exist (A.7).
    @Test func addIsAnUpsert() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage(#"{"hw_disk_bus":"scsi","tags":["old"]}"#)
            let r = try await api.patch(
                id,
                #"""
                [{"op":"add","path":"/min_disk","value":3},{"op":"add","path":"/name","value":"n"},
                 {"op":"add","path":"/os_distro","value":"cirros"},{"op":"add","path":"/protected","value":true},
                 {"op":"add","path":"/tags","value":["tagA","old"]},{"op":"add","path":"/visibility","value":"community"},
                 {"op":"add","path":"/hw_disk_bus","value":"ide"}]
                """#)
            #expect(r.status == .ok, "\(r)")
            #expect(r["min_disk"]?.int == 3)
            #expect(r["name"]?.string == "n")
            #expect(r["os_distro"]?.string == "cirros")
            #expect(r["protected"]?.bool == true)
            #expect(r["tags"]?.strings?.sorted() == ["old", "tagA"])
            #expect(r["visibility"]?.string == "community")
            #expect(r["hw_disk_bus"]?.string == "ide")
        }
    }

    @Test func replaceAndRemoveOfExtraProperties() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage(#"{"k":"v"}"#)
            let replaced = try await api.patch(id, #"[{"op":"replace","path":"/k","value":"w"}]"#)
            #expect(replaced["k"]?.string == "w")
            let removed = try await api.patch(id, #"[{"op":"remove","path":"/k"}]"#)
            #expect(removed.status == .ok)
            #expect(removed["k"] == nil)
            expectError(try await api.patch(id, #"[{"op":"replace","path":"/k","value":"x"}]"#), .conflict)
            expectError(try await api.patch(id, #"[{"op":"remove","path":"/k"}]"#), .conflict)
        }
    }

    @Test func aFailingOperationChangesNothing() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let r = try await api.patch(
                id, #"[{"op":"replace","path":"/name","value":"changed"},{"op":"remove","path":"/missing"}]"#)
            expectError(r, .conflict)
            #expect(try await api.image(id)["name"]?.string == "img")
        }
    }

    @Test func replaceBaseAttributes() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let r = try await api.patch(
                id,
                #"""
                [{"op":"replace","path":"/name","value":null},{"op":"replace","path":"/min_ram","value":256},
                 {"op":"replace","path":"/os_hidden","value":true},{"op":"replace","path":"/disk_format","value":"qcow2"},
                 {"op":"replace","path":"/container_format","value":"ovf"},{"op":"replace","path":"/visibility","value":"private"}]
                """#)
            #expect(r.status == .ok, "\(r)")
            #expect(r["name"]?.isNull == true)
            #expect(r["min_ram"]?.int == 256)
            #expect(r["os_hidden"]?.bool == true)
            #expect(r["disk_format"]?.string == "qcow2")
            #expect(r["container_format"]?.string == "ovf")
            #expect(r["visibility"]?.string == "private")
        }
    }

    @Test(arguments: ["name", "visibility", "protected", "tags", "min_ram", "disk_format", "owner", "os_hidden"])
    func removeOfABaseAttributeIs403(key: String) async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            expectError(try await api.patch(id, #"[{"op":"remove","path":"/\#(key)"}]"#), .forbidden)
        }
    }

    @Test(arguments: [
        "status", "created_at", "updated_at", "checksum", "size", "virtual_size", "id", "os_hash_algo",
        "os_hash_value", "self", "file", "schema", "direct_url",
    ])
    func readOnlyAttributeIs403(key: String) async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            for op in ["add", "replace"] {
                let r = try await api.patch(id, #"[{"op":"\#(op)","path":"/\#(key)","value":"x"}]"#)
                expectError(r, .forbidden, containing: key)
            }
            expectError(try await api.patch(id, #"[{"op":"remove","path":"/\#(key)"}]"#), .forbidden)
        }
    }

    @Test(arguments: ["os_glance_import_task", "os_glance_x", "deleted", "location"])
    func reservedAttributeIs403(key: String) async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            expectError(try await api.patch(id, #"[{"op":"add","path":"/\#(key)","value":"x"}]"#), .forbidden)
        }
    }

    @Test func invalidOperationIs400() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let r = try await api.patch(id, #"[{"op":"frobnicate","path":"/name","value":"x"}]"#)
            expectError(
                r, .badRequest,
                containing: "Invalid operation: `frobnicate`. It must be one of the following: add, remove, replace.")
        }
    }

    @Test(arguments: [
        #"{"op":"replace","path":"/name","value":"x"}"#,  // not an array
        #"[{"path":"/name","value":"x"}]"#,  // no op
        #"[{"op":"replace","value":"x"}]"#,  // no path
        #"[{"op":"replace","path":"/name"}]"#,  // no value
        #"[{"op":"add","path":"name","value":"x"}]"#,  // not a pointer
        #"[{"op":"add","path":"/","value":"x"}]"#,
        #"[{"op":"add","path":"/a/b","value":"x"}]"#,  // two segments
        #"["replace"]"#,
        #"[{"op":"replace","path":"/name","value":"x"},]"#,  // trailing comma
        "[",
        "",
    ])
    func malformedPatchIs400(body: String) async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            expectError(try await api.patch(id, body), .badRequest)
        }
    }

    @Test(arguments: [
        #"[{"op":"replace","path":"/visibility","value":"everyone"}]"#,
        #"[{"op":"replace","path":"/disk_format","value":"floppy"}]"#,
        #"[{"op":"replace","path":"/container_format","value":"crate"}]"#,
        #"[{"op":"replace","path":"/min_ram","value":"big"}]"#,
        #"[{"op":"replace","path":"/min_disk","value":-1}]"#,
        #"[{"op":"replace","path":"/protected","value":"true"}]"#,
        #"[{"op":"replace","path":"/tags","value":"t"}]"#,
        #"[{"op":"add","path":"/custom","value":5}]"#,
        #"[{"op":"add","path":"/custom","value":null}]"#,
        #"[{"op":"replace","path":"/name","value":7}]"#,
    ])
    func badValueIs400(body: String) async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            expectError(try await api.patch(id, body), .badRequest)
        }
    }

    @Test func ownerChange() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let r = try await api.patch(id, #"[{"op":"replace","path":"/owner","value":"p-other"}]"#)
            expectError(r, .forbidden, containing: "Owner can't be updated by non admin")
            let admin = try await api.patch(id, #"[{"op":"replace","path":"/owner","value":"p-other"}]"#, as: .admin)
            #expect(admin.status == .ok, "\(admin)")
            #expect(admin["owner"]?.string == "p-other")
            // The former owner has lost the (shared, memberless) image.
            expectError(try await api.get("/v2/images/\(id)", as: .owner), .notFound)
            #expect(try await api.get("/v2/images/\(id)", as: .other).status == .ok)
        }
    }

    @Test func publicizeByNonAdminIs403() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            expectError(
                try await api.patch(id, #"[{"op":"replace","path":"/visibility","value":"public"}]"#), .forbidden)
            #expect(try await api.image(id)["visibility"]?.string == "shared")
            let r = try await api.patch(id, #"[{"op":"replace","path":"/visibility","value":"public"}]"#, as: .admin)
            #expect(r["visibility"]?.string == "public")
            // Already public: an owner may go on changing other attributes.
            #expect(try await api.patch(id, #"[{"op":"replace","path":"/name","value":"n"}]"#).status == .ok)
        }
    }

    @Test func diskAndContainerFormatAreFrozenOnceActive() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            try await api.upload(id, Payload.hello)
            expectError(
                try await api.patch(id, #"[{"op":"replace","path":"/disk_format","value":"qcow2"}]"#), .forbidden)
            expectError(
                try await api.patch(id, #"[{"op":"replace","path":"/container_format","value":"ovf"}]"#), .forbidden)
            #expect(try await api.image(id)["disk_format"]?.string == "raw")
            // Other attributes of an active image may change.
            #expect(try await api.patch(id, #"[{"op":"replace","path":"/min_disk","value":1}]"#).status == .ok)
        }
    }

    @Test func propertyAndTagQuotas() async throws {
        try await withGlimpse { api in
            let props = "{" + (0..<128).map { #""p\#($0)":"v""# }.joined(separator: ",") + "}"
            let id = try await api.createImage(props)
            expectError(try await api.patch(id, #"[{"op":"add","path":"/one_more","value":"v"}]"#), .contentTooLarge)
            // Upserting an existing key does not count twice.
            #expect(try await api.patch(id, #"[{"op":"add","path":"/p0","value":"w"}]"#).status == .ok)
            let tags = "[" + (0..<129).map { #""t\#($0)""# }.joined(separator: ",") + "]"
            expectError(try await api.patch(id, #"[{"op":"add","path":"/tags","value":\#(tags)}]"#), .contentTooLarge)
        }
    }

    @Test func jsonPointerEscapes() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let r = try await api.patch(id, #"[{"op":"add","path":"/a~1b~0c","value":"v"}]"#)
            #expect(r.status == .ok, "\(r)")
            #expect(r["a/b~c"]?.string == "v")
        }
    }

    @Test func patchOfMissingImageIs404() async throws {
        try await withGlimpse { api in
            expectError(
                try await api.patch(
                    "00000000-0000-0000-0000-000000000000", #"[{"op":"replace","path":"/name","value":"x"}]"#),
                .notFound)
        }
    }

    @Test func readerCannotPatch() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            expectError(
                try await api.patch(id, #"[{"op":"replace","path":"/name","value":"x"}]"#, as: .ownerReader), .forbidden)
        }
    }
}
