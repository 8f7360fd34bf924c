import HTTPTypes
import Testing

/// Version discovery (wire facts A.1, C.1), schemas (C.2), discovery info and unknown routes.
@Suite struct VersionsTests {
    static func checkVersionList(_ r: Reply, base: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.header("Content-Type") == "application/json", sourceLocation: sourceLocation)
        let versions = r["versions"]?.array ?? []
        #expect(!versions.isEmpty, "\(r)", sourceLocation: sourceLocation)
        let ids = versions.compactMap { $0["id"]?.string }
        #expect(ids.first == "v2.17", sourceLocation: sourceLocation)
        #expect(ids.contains("v2.0") && ids.contains("v2.5") && ids.contains("v2.15"), sourceLocation: sourceLocation)
        #expect(versions.first?["status"]?.string == "CURRENT", sourceLocation: sourceLocation)
        #expect(
            versions.dropFirst().allSatisfy { $0["status"]?.string == "SUPPORTED" }, sourceLocation: sourceLocation)
        for v in versions {
            let links = v["links"]?.array ?? []
            #expect(links.count == 1, sourceLocation: sourceLocation)
            #expect(links.first?["rel"]?.string == "self", sourceLocation: sourceLocation)
            #expect(links.first?["href"]?.string == base + "/v2/", "\(v)", sourceLocation: sourceLocation)
        }
    }

    /// A path that exists answers 405 with `Allow` for a method it does not take (Glance: webob's 405), while a
    /// path that does not exist, or a missing image, stays 404.
    @Test(arguments: [
        (HTTPRequest.Method.put, "/v2/images", "GET, POST"),
        (.delete, "/v2/schemas/image", "GET"),
        (.post, "/v2/images/3b5c1d8e-0000-4000-8000-000000000001", "DELETE, GET, PATCH"),
        (.post, "/v2.9/images/3b5c1d8e-0000-4000-8000-000000000001/tags/x", "DELETE, PUT"),
    ])
    func wrongMethodIs405WithAllow(method: HTTPRequest.Method, path: String, allow: String) async throws {
        try await withGlimpse { api in
            let r = try await api.send(method, path)
            #expect(r.status == .methodNotAllowed, "\(r)")
            #expect(r.header("Allow") == allow)
            #expect(r["code"]?.string == "405 Method Not Allowed", "an OpenStack-shaped body: \(r.text)")
            #expect(r["message"]?.string?.contains("not allowed") == true)
        }
    }

    @Test func unknownPathsAndMissingImagesStay404() async throws {
        try await withGlimpse { api in
            // Tempest's test_delete_image_null_id: an empty id is a missing image, not a wrong method on the list.
            let emptyID = try await api.send(.delete, "/v2/images/")
            #expect(emptyID.status == .notFound, "\(emptyID)")
            let unknown = try await api.send(.put, "/v2/nothing-here")
            let missing = try await api.get("/v2/images/3b5c1d8e-0000-4000-8000-000000000001")
            let missingDelete = try await api.delete("/v2/images/3b5c1d8e-0000-4000-8000-000000000001")
            #expect(unknown.status == .notFound)
            #expect(missing.status == .notFound)
            #expect(missingDelete.status == .notFound)
        }
    }

    @Test func rootIsMultipleChoices() async throws {
        try await withGlimpse(publicURL: "https://cloud.example.org:9292/image") { api in
            // Discovery is sent without credentials.
            let r = try await api.get("/", as: nil)
            #expect(r.status == .multipleChoices)
            Self.checkVersionList(r, base: "https://cloud.example.org:9292/image")
        }
    }

    @Test func versionsIsOK() async throws {
        try await withGlimpse(publicURL: "http://glimpse.test/") { api in
            let r = try await api.get("/versions", as: nil)
            #expect(r.status == .ok)
            // A trailing slash on the public URL does not double up.
            Self.checkVersionList(r, base: "http://glimpse.test")
        }
    }

    /// Load balancers poll /healthcheck without credentials, as they poll Glance's.
    @Test func healthcheckIsOKWithoutCredentials() async throws {
        try await withGlimpse { api in
            let r = try await api.get("/healthcheck", as: nil)
            #expect(r.status == .ok, "\(r)")
            #expect(r.text == "OK")
            #expect(r.header("Content-Type") == "text/plain; charset=UTF-8")
            let head = try await api.send(.head, "/healthcheck", as: nil)
            #expect(head.status == .ok, "\(head)")
        }
    }

    @Test func unknownVersionPrefixGetsTheVersionList() async throws {
        try await withGlimpse(publicURL: "http://glimpse.test") { api in
            let r = try await api.get("/v1/images", as: nil)
            #expect(r.status == .multipleChoices)
            Self.checkVersionList(r, base: "http://glimpse.test")
        }
    }

    @Test(arguments: ["/v2/nonsense", "/v2/images/abc/nonsense", "/nothing/here"])
    func unknownRouteIs404JSON(path: String) async throws {
        try await withGlimpse { api in
            let r = try await api.get(path)
            expectError(r, .notFound)
        }
    }

    @Test func unsupportedMethodOnImages() async throws {
        try await withGlimpse { api in
            let r = try await api.send(.put, "/v2/images")
            #expect(r.status == .notFound || r.status == .methodNotAllowed, "\(r)")
            #expect(r.header("Content-Type") == "application/json")
        }
    }

    @Test(arguments: ["image", "images", "member", "members"])
    func schemas(name: String) async throws {
        try await withGlimpse { api in
            let r = try await api.get("/v2/schemas/\(name)")
            #expect(r.status == .ok)
            #expect(r.header("Content-Type") == "application/json")
            #expect(r["name"]?.string == name)
        }
    }

    @Test func imageSchemaHasGlanceEnums() async throws {
        try await withGlimpse { api in
            let r = try await api.get("/v2/schemas/image")
            let props = try #require(r["properties"])
            #expect(
                props["visibility"]?["enum"]?.strings?.sorted() == ["community", "private", "public", "shared"])
            #expect(props["disk_format"]?["enum"]?.strings?.contains("qcow2") == true)
            #expect(props["container_format"]?["enum"]?.strings?.contains("bare") == true)
            #expect(props["status"]?["readOnly"]?.bool == true)
            #expect(r["additionalProperties"]?["type"]?.string == "string")
        }
    }

    @Test func infoStoresAndImport() async throws {
        try await withGlimpse { api in
            let stores = try await api.get("/v2/info/stores")
            #expect(stores.status == .ok)
            #expect(stores["stores"]?.array?.first?["id"]?.string == "local")
            let imp = try await api.get("/v2/info/import")
            #expect(imp.status == .ok)
            #expect(imp["import-methods"]?["value"]?.array != nil)
        }
    }

    @Test func requestIDOnEveryAnswer() async throws {
        try await withGlimpse { api in
            for r in [try await api.get("/v2/images"), try await api.get("/v2/nonsense")] {
                let id = r.header("x-openstack-request-id")
                #expect(id?.hasPrefix("req-") == true, "\(r.headers)")
            }
        }
    }

    @Test func noCredentialHeadersMeansAdminOfDefault() async throws {
        try await withGlimpse { api in
            let r = try await api.post("/v2/images", json: #"{"name":"n","visibility":"public"}"#, as: nil)
            #expect(r.status == .created, "\(r)")
            #expect(r["owner"]?.string == "default")
        }
    }
}
