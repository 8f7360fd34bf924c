import Foundation
import GlimpseCore
import HTTPTypes
import Testing

// `/v2/metadefs/...` and `/v2/schemas/metadefs/*`: what Tempest's metadefs tests do against Glance 33, and the rules
// around them (admin-only writes, reader visibility, protected namespaces, conflicts).

@Suite("Metadata definitions catalog")
struct MetadefTests {
    static let ns = "/v2/metadefs/namespaces"

    /// Creates a namespace as admin (201 expected).
    @discardableResult
    static func createNamespace(
        _ api: API, _ name: String, visibility: String = "public", protected: Bool = false, extra: String = "",
        as who: Who = .admin, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Reply {
        let r = try await api.post(
            ns,
            json:
                #"{"namespace":"\#(name)","visibility":"\#(visibility)","description":"Tempest","display_name":"\#(name)","protected":\#(protected)\#(extra)}"#,
            as: who)
        #expect(r.status == .created, "create namespace: \(r)", sourceLocation: sourceLocation)
        return r
    }

    @Test("the ten metadefs schemas carry the names Tempest checks")
    func schemas() async throws {
        try await withGlimpse { api in
            let expected = [
                "namespace": "namespace", "namespaces": "namespaces", "resource_type": "resource_type_association",
                "resource_types": "resource_type_associations", "object": "object", "objects": "objects",
                "property": "property", "properties": "properties", "tag": "tag", "tags": "tags",
            ]
            for (path, name) in expected {
                let r = try await api.get("/v2/schemas/metadefs/\(path)", as: .ownerReader)
                #expect(r.status == .ok, "\(path): \(r)")
                #expect(r["name"]?.string == name, "\(path): \(r)")
                #expect(r["properties"]?.object != nil, "\(path): \(r)")
            }
            let ns = try await api.get("/v2/schemas/metadefs/namespace")
            #expect(ns["required"]?.strings == ["namespace"])
            #expect(ns["additionalProperties"]?.bool == false)
            #expect(ns["definitions"]?["property"] != nil)
            let property = try await api.get("/v2/schemas/metadefs/property")
            #expect(property["required"]?.strings == ["type", "title", "name"])
            let namespaces = try await api.get("/v2/schemas/metadefs/namespaces")
            #expect(namespaces["properties"]?["namespaces"]?["items"]?["name"]?.string == "namespace")
            #expect(namespaces["links"]?.array?.count == 3)
        }
    }

    @Test("standard resource types exist on a new deployment")
    func resourceTypes() async throws {
        try await withGlimpse { api in
            let r = try await api.get("/v2/metadefs/resource_types", as: .ownerReader)
            #expect(r.status == .ok, "\(r)")
            let names = r["resource_types"]?.array?.compactMap { $0["name"]?.string } ?? []
            for expected in ["OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor", "OS::Nova::Server"] {
                #expect(names.contains(expected), "\(names)")
            }
            #expect(r["resource_types"]?.array?.first?["created_at"]?.string?.hasSuffix("Z") == true)
        }
    }

    @Test("Tempest's namespace test: create public protected, list, show, delete refused, update, delete")
    func namespaceLifecycle() async throws {
        try await withGlimpse { api in
            let types = try await api.get("/v2/metadefs/resource_types", as: .admin)
            let rt = try #require(types["resource_types"]?.array?.first?["name"]?.string)
            let created = try await Self.createNamespace(
                api, "tempest-ns-1", protected: true, extra: #","resource_type_associations":[{"name":"\#(rt)"}]"#)
            #expect(created["namespace"]?.string == "tempest-ns-1")
            #expect(created["owner"]?.string == "p-admin")
            #expect(created["protected"]?.bool == true)
            #expect(created["self"]?.string == "/v2/metadefs/namespaces/tempest-ns-1")
            #expect(created["schema"]?.string == "/v2/schemas/metadefs/namespace")
            #expect(created["resource_type_associations"]?.array?.first?["name"]?.string == rt)
            #expect(created.header("Location")?.hasSuffix("/v2/metadefs/namespaces/tempest-ns-1") == true)

            let list = try await api.get(Self.ns, as: .admin)
            #expect(list.status == .ok, "\(list)")
            let names = list["namespaces"]?.array?.compactMap { $0["namespace"]?.string } ?? []
            #expect(names.contains("tempest-ns-1"))
            #expect(list["first"]?.string == "/v2/metadefs/namespaces")
            #expect(list["schema"]?.string == "/v2/schemas/metadefs/namespaces")
            #expect(list["namespaces"]?.array?.first?["resource_type_associations"]?.array?.count == 1)

            let show = try await api.get(Self.ns + "/tempest-ns-1", as: .admin)
            #expect(show.status == .ok)
            #expect(show["visibility"]?.string == "public")
            #expect(show["resource_type_associations"]?.array?.first?["name"]?.string == rt)

            expectError(try await api.delete(Self.ns + "/tempest-ns-1", as: .admin), .forbidden, containing: "protected")

            let updated = try await api.putJSON(
                Self.ns + "/tempest-ns-1",
                json:
                    #"{"namespace":"tempest-ns-1","description":"Tempest","visibility":"private","display_name":"tempest-ns-1","protected":false}"#,
                as: .admin)
            #expect(updated.status == .ok, "\(updated)")
            #expect(updated["visibility"]?.string == "private")
            #expect(updated["protected"]?.bool == false)

            let deleted = try await api.delete(Self.ns + "/tempest-ns-1", as: .admin)
            #expect(deleted.status == .noContent, "\(deleted)")
            expectError(try await api.get(Self.ns + "/tempest-ns-1", as: .admin), .notFound)
            // Its association went with it; the resource type stays.
            let after = try await api.get("/v2/metadefs/resource_types", as: .admin)
            #expect(after["resource_types"]?.array?.contains { $0["name"]?.string == rt } == true)
        }
    }

    @Test("namespace creation: conflicts, bad input, read-only attributes, non-admins")
    func namespaceCreateRules() async throws {
        try await withGlimpse { api in
            try await Self.createNamespace(api, "dup")
            expectError(try await api.post(Self.ns, json: #"{"namespace":"dup"}"#, as: .admin), .conflict, containing: "dup")
            expectError(try await api.post(Self.ns, json: #"{"display_name":"x"}"#, as: .admin), .badRequest, containing: "'namespace' is a required property")
            expectError(try await api.post(Self.ns, json: #"{"namespace":"x","visibility":"shared"}"#, as: .admin), .badRequest)
            expectError(try await api.post(Self.ns, json: #"{"namespace":"x","bogus":1}"#, as: .admin), .badRequest)
            expectError(try await api.post(Self.ns, json: #"{"namespace":"x","protected":"yes"}"#, as: .admin), .badRequest)
            expectError(try await api.post(Self.ns, json: #"{"namespace":"\#(String(repeating: "n", count: 81))"}"#, as: .admin), .badRequest)
            expectError(try await api.post(Self.ns, json: #"{"namespace":"x","created_at":"now"}"#, as: .admin), .forbidden, containing: "read-only")
            expectError(try await api.post(Self.ns, json: #"{"namespace":"x"}"#, as: .owner), .forbidden)
            expectError(try await api.post(Self.ns, json: "{", as: .admin), .badRequest)
            // Defaults: private, unprotected, owned by the caller's project.
            let r = try await api.post(Self.ns, json: #"{"namespace":"defaults"}"#, as: .admin)
            #expect(r["visibility"]?.string == "private")
            #expect(r["protected"]?.bool == false)
            #expect(r["owner"]?.string == "p-admin")
        }
    }

    @Test("namespace creation with its whole content, shown inline")
    func namespaceWithContent() async throws {
        try await withGlimpse { api in
            let body = #"""
                {"namespace":"OS::Compute::Test","visibility":"public","protected":false,
                 "resource_type_associations":[{"name":"OS::Glance::Image","prefix":"hw_"},{"name":"OS::Custom::Thing"}],
                 "properties":{"hypervisor_type":{"title":"Hypervisor Type","type":"string","enum":["kvm","qemu"]}},
                 "objects":[{"name":"CPU Limits","required":["cpu_period"],"properties":{"cpu_period":{"title":"Period","type":"integer","minimum":1000}}}],
                 "tags":[{"name":"t1"},{"name":"t2"}]}
                """#
            let r = try await api.post(Self.ns, json: body, as: .admin)
            #expect(r.status == .created, "\(r)")
            #expect(r["objects"]?.array?.first?["name"]?.string == "CPU Limits")
            #expect(r["tags"]?.array?.count == 2)

            let show = try await api.get(Self.ns + "/OS::Compute::Test", as: .otherReader)
            #expect(show.status == .ok, "\(show)")
            #expect(show["properties"]?["hypervisor_type"]?["enum"]?.strings == ["kvm", "qemu"])
            #expect(show["objects"]?.array?.first?["required"]?.strings == ["cpu_period"])
            #expect(show["objects"]?.array?.first?["properties"]?["cpu_period"]?["minimum"]?.int == 1000)
            #expect(show["objects"]?.array?.first?["self"]?.string == "/v2/metadefs/namespaces/OS::Compute::Test/objects/CPU Limits")
            #expect(Set(show["tags"]?.array?.compactMap { $0["name"]?.string } ?? []) == ["t1", "t2"])
            #expect(show["resource_type_associations"]?.array?.count == 2)

            // With a resource type, property names carry its prefix.
            let prefixed = try await api.get(Self.ns + "/OS::Compute::Test?resource_type=OS::Glance::Image", as: .admin)
            #expect(prefixed["properties"]?["hw_hypervisor_type"] != nil, "\(prefixed)")
            #expect(prefixed["objects"]?.array?.first?["required"]?.strings == ["hw_cpu_period"])
            let prop = try await api.get(
                Self.ns + "/OS::Compute::Test/properties/hw_hypervisor_type?resource_type=OS::Glance::Image", as: .admin)
            #expect(prop.status == .ok, "\(prop)")
            #expect(prop["name"]?.string == "hypervisor_type")

            // An unknown resource type named in an association is created.
            let types = try await api.get("/v2/metadefs/resource_types", as: .admin)
            #expect(types["resource_types"]?.array?.contains { $0["name"]?.string == "OS::Custom::Thing" } == true)

            // Filters on the list.
            let byType = try await api.get(Self.ns + "?resource_types=OS::Custom::Thing", as: .admin)
            #expect(byType["namespaces"]?.array?.compactMap { $0["namespace"]?.string } == ["OS::Compute::Test"])
            let none = try await api.get(Self.ns + "?resource_types=OS::Nova::Server", as: .admin)
            #expect(none["namespaces"]?.array?.isEmpty == true)

            // A duplicate inside the content rolls the whole creation back.
            let bad = try await api.post(
                Self.ns, json: #"{"namespace":"half","tags":[{"name":"a"},{"name":"A"}]}"#, as: .admin)
            expectError(bad, .conflict)
            expectError(try await api.get(Self.ns + "/half", as: .admin), .notFound)
        }
    }

    @Test("visibility: private namespaces of other projects are 404, public ones readable, writes admin-only")
    func visibility() async throws {
        try await withGlimpse { api in
            try await api.post(Self.ns, json: #"{"namespace":"mine","visibility":"private","owner":"p-owner"}"#, as: .admin)
            try await Self.createNamespace(api, "open", visibility: "public")
            try await Self.createNamespace(api, "secret", visibility: "private")

            #expect(try await api.get(Self.ns + "/mine", as: .ownerReader).status == .ok)
            expectError(try await api.get(Self.ns + "/mine", as: .otherReader), .notFound)
            #expect(try await api.get(Self.ns + "/open", as: .otherReader).status == .ok)
            expectError(try await api.get(Self.ns + "/secret", as: .owner), .notFound)
            expectError(try await api.get(Self.ns + "/mine/objects", as: .other), .notFound)

            let listed = try await api.get(Self.ns, as: .ownerReader)
            #expect(Set(listed["namespaces"]?.array?.compactMap { $0["namespace"]?.string } ?? []) == ["mine", "open"])
            let adminList = try await api.get(Self.ns, as: .admin)
            #expect(adminList["namespaces"]?.array?.count == 3)
            let publicOnly = try await api.get(Self.ns + "?visibility=public", as: .admin)
            #expect(publicOnly["namespaces"]?.array?.compactMap { $0["namespace"]?.string } == ["open"])
            expectError(try await api.get(Self.ns + "?visibility=shared", as: .admin), .badRequest)

            // Non-admin writes: 403 on what the caller can read, 404 on what it cannot.
            expectError(try await api.delete(Self.ns + "/open", as: .owner), .forbidden)
            expectError(try await api.delete(Self.ns + "/secret", as: .owner), .notFound)
            expectError(try await api.post(Self.ns + "/open/objects", json: #"{"name":"o"}"#, as: .owner), .forbidden)
            expectError(try await api.post(Self.ns + "/open/tags/t", as: .owner), .forbidden)
            expectError(
                try await api.putJSON(Self.ns + "/mine", json: #"{"namespace":"mine"}"#, as: .owner), .forbidden)
            // A caller without the reader role cannot list (Glance turns a refusal it could not even read into 404).
            let noRole = Who(name: "norole", project: "p-owner", roles: "")
            expectError(try await api.get(Self.ns, as: noRole), .notFound)
            expectError(try await api.get("/v2/metadefs/resource_types", as: noRole), .notFound)
        }
    }

    @Test("list paging: limit, next, marker, sort")
    func paging() async throws {
        try await withGlimpse { api in
            for i in 1...5 { try await Self.createNamespace(api, "page-\(i)") }
            let first = try await api.get(Self.ns + "?limit=2", as: .admin)
            #expect(first["namespaces"]?.array?.compactMap { $0["namespace"]?.string } == ["page-5", "page-4"])
            let next = try #require(first["next"]?.string)
            #expect(next == "/v2/metadefs/namespaces?limit=2&marker=page-4")
            let second = try await api.get(next, as: .admin)
            #expect(second["namespaces"]?.array?.compactMap { $0["namespace"]?.string } == ["page-3", "page-2"])
            let asc = try await api.get(Self.ns + "?sort_key=namespace&sort_dir=asc&limit=3", as: .admin)
            #expect(asc["namespaces"]?.array?.compactMap { $0["namespace"]?.string } == ["page-1", "page-2", "page-3"])
            let all = try await api.get(Self.ns, as: .admin)
            #expect(all["next"] == nil)
            expectError(try await api.get(Self.ns + "?marker=nope", as: .admin), .notFound)
            expectError(try await api.get(Self.ns + "?limit=x", as: .admin), .badRequest)
            expectError(try await api.get(Self.ns + "?sort_dir=up", as: .admin), .badRequest)
        }
    }

    @Test("Tempest's object tests: create, list, show, update (rename), delete")
    func objects() async throws {
        try await withGlimpse { api in
            try await Self.createNamespace(api, "obj-ns")
            let base = Self.ns + "/obj-ns/objects"
            let created = try await api.post(base, json: #"{"name":"object-1"}"#, as: .admin)
            #expect(created.status == .created, "\(created)")
            #expect(created["name"]?.string == "object-1")
            #expect(created["self"]?.string == "/v2/metadefs/namespaces/obj-ns/objects/object-1")
            #expect(created["schema"]?.string == "/v2/schemas/metadefs/object")

            let list = try await api.get(base, as: .admin)
            #expect(list["objects"]?.array?.compactMap { $0["name"]?.string } == ["object-1"])
            #expect(list["schema"]?.string == "v2/schemas/metadefs/objects")
            #expect(list["objects"]?.array?.first?["required"]?.strings == [])

            let show = try await api.get(base + "/object-1", as: .otherReader)
            #expect(show["name"]?.string == "object-1", "\(show)")

            expectError(try await api.post(base, json: #"{"name":"object-1"}"#, as: .admin), .conflict)
            expectError(try await api.post(base, json: #"{"description":"x"}"#, as: .admin), .badRequest)
            expectError(
                try await api.post(base, json: #"{"name":"p","properties":{"a":{"title":"A"}}}"#, as: .admin),
                .badRequest, containing: "'type' is a required property")

            let updated = try await api.putJSON(base + "/object-1", json: #"{"name":"object-2","description":"d"}"#, as: .admin)
            #expect(updated.status == .ok, "\(updated)")
            #expect(updated["name"]?.string == "object-2")
            expectError(try await api.get(base + "/object-1", as: .admin), .notFound)

            #expect(try await api.delete(base + "/object-2", as: .admin).status == .noContent)
            expectError(try await api.delete(base + "/object-2", as: .admin), .notFound)
            #expect(try await api.get(base, as: .admin)["objects"]?.array?.isEmpty == true)

            // Names with spaces travel percent-encoded.
            #expect(try await api.post(base, json: #"{"name":"CPU Limits"}"#, as: .admin).status == .created)
            #expect(try await api.get(base + "/CPU%20Limits", as: .admin)["name"]?.string == "CPU Limits")
            #expect(try await api.delete(Self.ns + "/obj-ns/objects", as: .admin).status == .noContent)
            #expect(try await api.get(base, as: .admin)["objects"]?.array?.isEmpty == true)
        }
    }

    @Test("Tempest's property test: a property named after a resource type, shown, updated, deleted")
    func properties() async throws {
        try await withGlimpse { api in
            let types = try await api.get("/v2/metadefs/resource_types", as: .admin)
            let rt = try #require(types["resource_types"]?.array?.first?["name"]?.string)
            try await Self.createNamespace(api, "prop-ns")
            let assoc = try await api.post(Self.ns + "/prop-ns/resource_types", json: #"{"name":"\#(rt)"}"#, as: .admin)
            #expect(assoc.status == .created, "\(assoc)")
            let base = Self.ns + "/prop-ns/properties"
            let enumList = #"["xen","qemu","kvm","lxc","uml","vmware","hyperv"]"#
            let created = try await api.post(
                base, json: #"{"title":"property-1","name":"\#(rt)","type":"string","enum":\#(enumList)}"#, as: .admin)
            #expect(created.status == .created, "\(created)")
            #expect(created["title"]?.string == "property-1")
            #expect(created["name"]?.string == rt)

            let show = try await api.get(base + "/" + rt, as: .admin)
            #expect(show.status == .ok, "\(show)")
            #expect(show["name"]?.string == rt)
            #expect(show["enum"]?.strings?.count == 7)

            let updated = try await api.putJSON(
                base + "/" + rt, json: #"{"title":"property-2","type":"string","enum":\#(enumList),"name":"\#(rt)"}"#,
                as: .admin)
            #expect(updated.status == .ok, "\(updated)")
            #expect(updated["title"]?.string == "property-2")

            let list = try await api.get(base, as: .admin)
            #expect(list["properties"]?[rt]?["title"]?.string == "property-2", "\(list)")

            #expect(try await api.delete(base + "/" + rt, as: .admin).status == .noContent)
            #expect(try await api.get(base, as: .admin)["properties"]?.object?.isEmpty == true)

            // Bad input.
            expectError(try await api.post(base, json: #"{"title":"t","type":"string"}"#, as: .admin), .badRequest)
            expectError(try await api.post(base, json: #"{"name":"n","title":"t","type":"str"}"#, as: .admin), .badRequest)
            expectError(
                try await api.post(base, json: #"{"name":"n","title":"t","type":"string","other":1}"#, as: .admin),
                .badRequest)
            #expect(try await api.post(base, json: #"{"name":"n","title":"t","type":"string"}"#, as: .admin).status == .created)
            expectError(try await api.post(base, json: #"{"name":"n","title":"t","type":"string"}"#, as: .admin), .conflict)
            expectError(try await api.get(base + "/missing", as: .admin), .notFound)
        }
    }

    @Test("Tempest's tag tests: create several, list, delete all, create one, show, rename, delete")
    func tags() async throws {
        try await withGlimpse { api in
            try await Self.createNamespace(api, "tag-ns")
            let base = Self.ns + "/tag-ns/tags"
            let tags = #"{"tags":[{"name":"sample-tag1"},{"name":"sample-tag2"},{"name":"sample-tag3"}]}"#
            let created = try await api.post(base, json: tags, as: .admin)
            #expect(created.status == .created, "\(created)")
            #expect(created["tags"]?.array?.count == 3)

            let list = try await api.get(base, as: .admin)
            #expect(Set(list["tags"]?.array?.compactMap { $0["name"]?.string } ?? []) == ["sample-tag1", "sample-tag2", "sample-tag3"])

            #expect(try await api.delete(base, as: .admin).status == .noContent)
            #expect(try await api.get(base, as: .admin)["tags"]?.array?.isEmpty == true)

            #expect(try await api.post(base, json: tags, as: .admin).status == .created)
            let one = try await api.post(base + "/tag_name-1", as: .admin)
            #expect(one.status == .created, "\(one)")
            #expect(one["name"]?.string == "tag_name-1")
            #expect(one["created_at"]?.string != nil)

            let show = try await api.get(base + "/tag_name-1", as: .admin)
            #expect(show["name"]?.string == "tag_name-1")

            let renamed = try await api.putJSON(base + "/tag_name-1", json: #"{"name":"update-tag"}"#, as: .admin)
            #expect(renamed.status == .ok, "\(renamed)")
            #expect(renamed["name"]?.string == "update-tag")

            #expect(try await api.delete(base + "/update-tag", as: .admin).status == .noContent)
            let names = try await api.get(base, as: .admin)["tags"]?.array?.compactMap { $0["name"]?.string } ?? []
            #expect(!names.contains("update-tag"))
            #expect(names.count == 3)

            // Conflicts (names are case-insensitive), replace vs append.
            expectError(try await api.post(base + "/SAMPLE-TAG1", as: .admin), .conflict)
            expectError(try await api.post(base, json: #"{"tags":[{"name":"x"},{"name":"x"}]}"#, as: .admin), .conflict)
            #expect(try await api.get(base, as: .admin)["tags"]?.array?.count == 3)
            let replaced = try await api.post(base, json: #"{"tags":[{"name":"only"}]}"#, as: .admin)
            #expect(replaced.status == .created)
            #expect(try await api.get(base, as: .admin)["tags"]?.array?.count == 1)
            let appended = try await api.send(
                .post, base, as: .admin,
                headers: [.contentType: "application/json", HTTPField.Name("X-Openstack-Append")!: "True"],
                body: .init(string: #"{"tags":[{"name":"more"}]}"#))
            #expect(appended.status == .created, "\(appended)")
            #expect(try await api.get(base, as: .admin)["tags"]?.array?.count == 2)
            expectError(try await api.post(base, json: #"{"tags":[{"nom":"x"}]}"#, as: .admin), .badRequest)
            expectError(try await api.get(base + "/ghost", as: .admin), .notFound)
            let limited = try await api.get(base + "?limit=1", as: .admin)
            #expect(limited["tags"]?.array?.count == 1)
        }
    }

    @Test("Tempest's resource type association test, and protected namespaces keep their content")
    func associations() async throws {
        try await withGlimpse { api in
            try await Self.createNamespace(api, "rt-ns")
            let base = Self.ns + "/rt-ns/resource_types"
            let created = try await api.post(base, json: #"{"name":"OS::Nova::Flavor","prefix":"hw:"}"#, as: .admin)
            #expect(created.status == .created, "\(created)")
            #expect(created["name"]?.string == "OS::Nova::Flavor")
            #expect(created["prefix"]?.string == "hw:")
            expectError(try await api.post(base, json: #"{"name":"OS::Nova::Flavor"}"#, as: .admin), .conflict)
            expectError(try await api.post(base, json: #"{"prefix":"x"}"#, as: .admin), .badRequest)

            let list = try await api.get(base, as: .otherReader)
            #expect(list["resource_type_associations"]?.array?.compactMap { $0["name"]?.string } == ["OS::Nova::Flavor"])

            #expect(try await api.delete(base + "/OS::Nova::Flavor", as: .admin).status == .noContent)
            #expect(try await api.get(base, as: .admin)["resource_type_associations"]?.array?.isEmpty == true)
            expectError(try await api.delete(base + "/OS::Nova::Flavor", as: .admin), .notFound)

            // Protected: content can be added but nothing deleted.
            try await Self.createNamespace(
                api, "locked", protected: true,
                extra: #","tags":[{"name":"t"}],"objects":[{"name":"o"}],"resource_type_associations":[{"name":"OS::Nova::Server"}]"#)
            let p = Self.ns + "/locked"
            #expect(try await api.post(p + "/properties", json: #"{"name":"n","title":"t","type":"string"}"#, as: .admin).status == .created)
            expectError(try await api.delete(p + "/tags/t", as: .admin), .forbidden)
            expectError(try await api.delete(p + "/tags", as: .admin), .forbidden)
            expectError(try await api.delete(p + "/objects/o", as: .admin), .forbidden)
            expectError(try await api.delete(p + "/objects", as: .admin), .forbidden)
            expectError(try await api.delete(p + "/properties/n", as: .admin), .forbidden)
            expectError(try await api.delete(p + "/properties", as: .admin), .forbidden)
            expectError(try await api.delete(p + "/resource_types/OS::Nova::Server", as: .admin), .forbidden)
            expectError(try await api.delete(p, as: .admin), .forbidden)
        }
    }

    @Test("renaming a namespace onto another is a conflict; content follows a rename")
    func rename() async throws {
        try await withGlimpse { api in
            try await Self.createNamespace(api, "a", extra: #","tags":[{"name":"t"}]"#)
            try await Self.createNamespace(api, "b")
            expectError(try await api.putJSON(Self.ns + "/a", json: #"{"namespace":"b"}"#, as: .admin), .conflict)
            let r = try await api.putJSON(Self.ns + "/a", json: #"{"namespace":"c","visibility":"public"}"#, as: .admin)
            #expect(r.status == .ok, "\(r)")
            #expect(r["self"]?.string == "/v2/metadefs/namespaces/c")
            #expect(try await api.get(Self.ns + "/c/tags/t", as: .admin).status == .ok)
            expectError(try await api.get(Self.ns + "/a", as: .admin), .notFound)
            expectError(try await api.putJSON(Self.ns + "/zzz", json: #"{"namespace":"zzz"}"#, as: .admin), .notFound)
        }
    }
}
