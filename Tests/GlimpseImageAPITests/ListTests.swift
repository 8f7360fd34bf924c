import Foundation
import HTTPTypes
import Testing

/// `GET /v2/images/{id}` and `GET /v2/images` (wire facts A.3, A.4, C.5; glance-observed 06, 16–18, 31–33).
@Suite struct ShowTests {
    @Test func showMissingImageIs404() async throws {
        try await withGlimpse { api in
            let r = try await api.get("/v2/images/00000000-0000-0000-0000-000000000000")
            expectError(r, .notFound, containing: "No image found with ID 00000000-0000-0000-0000-000000000000")
        }
    }

    /// The CLI's name lookup first tries the name as an id: a non-UUID must be a 404, not a 500.
    @Test(arguments: ["not-a-uuid", "cirros", "12345", "x%20y"])
    func showNonUUIDIs404(id: String) async throws {
        try await withGlimpse { api in
            expectError(try await api.get("/v2/images/\(id)"), .notFound)
        }
    }

    @Test func showAcceptsUppercaseID() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let r = try await api.get("/v2/images/\(id.uppercased())")
            #expect(r.status == .ok)
            #expect(r["id"]?.string == id)
        }
    }

    @Test func readerMayShowAndList() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            #expect(try await api.get("/v2/images/\(id)", as: .ownerReader).status == .ok)
            #expect(try await api.listIDs(as: .ownerReader) == [id])
        }
    }

    @Test func callerWithoutRolesIs403OnList() async throws {
        try await withGlimpse { api in
            let nobody = Who(name: "nobody", project: "p-owner", roles: "")
            expectError(try await api.get("/v2/images", as: nobody), .forbidden)
        }
    }
}

@Suite struct ListPagingTests {
    @Test func emptyListShape() async throws {
        try await withGlimpse { api in
            let r = try await api.get("/v2/images")
            #expect(r.status == .ok)
            #expect(r["images"]?.array == [])
            #expect(r["first"]?.string == "/v2/images")
            #expect(r["schema"]?.string == "/v2/schemas/images")
            #expect(r["next"] == nil)
        }
    }

    @Test func defaultLimitIs25AndNextPagesThrough() async throws {
        try await withGlimpse { api in
            var created: [String] = []
            for n in 0..<27 { created.append(try await api.createImage(#"{"name":"i\#(n)"}"#)) }
            let page1 = try await api.get("/v2/images")
            let ids1 = page1["images"]?.array?.compactMap { $0["id"]?.string } ?? []
            #expect(ids1.count == 25)
            // Default order: newest first.
            #expect(ids1 == Array(created.reversed().prefix(25)))
            let next = try #require(page1["next"]?.string)
            #expect(next == "/v2/images?marker=\(ids1.last!)")
            let page2 = try await api.get(next)
            let ids2 = page2["images"]?.array?.compactMap { $0["id"]?.string } ?? []
            #expect(ids2 == Array(created.reversed().suffix(2)))
            #expect(page2["next"] == nil)
            #expect(page2["first"]?.string == next)
        }
    }

    @Test func limitAndMarkerKeepTheQuery() async throws {
        try await withGlimpse { api in
            for n in 0..<5 { try await api.createImage(#"{"name":"n\#(n)","disk_format":"raw"}"#) }
            try await api.createImage(#"{"name":"other","disk_format":"iso"}"#)
            var seen: [String] = []
            var path: String? = "/v2/images?disk_format=raw&sort=name:asc&limit=2"
            var pages = 0
            while let p = path, pages < 10 {
                let r = try await api.get(p)
                #expect(r.status == .ok, "\(r)")
                seen += r["images"]?.array?.compactMap { $0["name"]?.string } ?? []
                path = r["next"]?.string
                if let path {
                    #expect(path.hasPrefix("/v2/images?"))
                    #expect(path.contains("disk_format=raw") && path.contains("limit=2"), "\(path)")
                    #expect(path.components(separatedBy: "marker=").count == 2, "one marker only: \(path)")
                }
                pages += 1
            }
            #expect(seen == ["n0", "n1", "n2", "n3", "n4"])
            // 5 images, pages of 2: the last page (1 image) is not full, so it has no next link.
            #expect(pages == 3)
        }
    }

    @Test func nextLinkOnAnExactlyFullLastPage() async throws {
        try await withGlimpse { api in
            for _ in 0..<2 { try await api.createImage() }
            let r = try await api.get("/v2/images?limit=2")
            let next = try #require(r["next"]?.string, "a full page has a next link")
            let last = try await api.get(next)
            #expect(last["images"]?.array == [])
            #expect(last["next"] == nil)
        }
    }

    @Test func limitIsCappedAt1000() async throws {
        try await withGlimpse { api in
            // Rows are created through the API: 1001 images.
            for n in 0..<1001 { try await api.createImage(#"{"name":"i\#(n)"}"#) }
            let r = try await api.get("/v2/images?limit=5000")
            #expect(r.status == .ok)
            #expect(r["images"]?.array?.count == 1000)
            #expect(r["next"] != nil)
            let d = try await api.get("/v2/images")
            #expect(d["images"]?.array?.count == 25)
        }
    }

    @Test(arguments: ["-1", "abc", "1.5", ""])
    func badLimitIs400(limit: String) async throws {
        try await withGlimpse { api in
            expectError(try await api.get("/v2/images?limit=\(limit)"), .badRequest)
        }
    }

    @Test func limitZero() async throws {
        try await withGlimpse { api in
            try await api.createImage()
            let r = try await api.get("/v2/images?limit=0")
            #expect(r.status == .ok)
            #expect(r["images"]?.array == [])
        }
    }

    @Test func unknownMarkerIs400() async throws {
        try await withGlimpse { api in
            let r = try await api.get("/v2/images?marker=00000000-0000-0000-0000-000000000000")
            expectError(r, .badRequest, containing: "No image found with ID 00000000-0000-0000-0000-000000000000")
            expectError(try await api.get("/v2/images?marker=junk"), .badRequest)
        }
    }

    @Test func markerOfAnImageTheCallerCannotSeeIs400() async throws {
        try await withGlimpse { api in
            let hidden = try await api.createImage(#"{"visibility":"private"}"#, as: .other)
            expectError(try await api.get("/v2/images?marker=\(hidden)", as: .owner), .badRequest)
        }
    }
}

@Suite struct ListSortingTests {
    /// Three images with distinct names and sizes, created a, c, b (so creation order differs from name order).
    static func seed(_ api: API) async throws -> (a: String, b: String, c: String) {
        let a = try await api.createImage(#"{"name":"a","disk_format":"raw","container_format":"bare"}"#)
        let c = try await api.createImage(#"{"name":"c","disk_format":"raw","container_format":"bare"}"#)
        let b = try await api.createImage(#"{"name":"b","disk_format":"ami","container_format":"bare"}"#)
        try await api.upload(a, Array(repeating: 1, count: 30))
        try await api.upload(c, Array(repeating: 1, count: 10))
        try await api.upload(b, Array(repeating: 1, count: 20))
        return (a, b, c)
    }

    @Test func sortKeyAndDir() async throws {
        try await withGlimpse { api in
            let (a, b, c) = try await Self.seed(api)
            #expect(try await api.listIDs() == [b, c, a], "default: created_at desc")
            #expect(try await api.listIDs("sort_key=name&sort_dir=asc") == [a, b, c])
            #expect(try await api.listIDs("sort_key=name") == [c, b, a], "direction defaults to desc")
            #expect(try await api.listIDs("sort_key=size&sort_dir=asc") == [c, b, a])
            #expect(try await api.listIDs("sort_dir=asc") == [a, c, b], "key defaults to created_at")
            #expect(try await api.listIDs("sort_key=disk_format&sort_key=name&sort_dir=asc&sort_dir=desc") == [b, c, a])
            // One direction for several keys applies to all of them.
            #expect(try await api.listIDs("sort_key=disk_format&sort_key=name&sort_dir=asc") == [b, a, c])
        }
    }

    @Test func sortParameter() async throws {
        try await withGlimpse { api in
            let (a, b, c) = try await Self.seed(api)
            #expect(try await api.listIDs("sort=name:asc") == [a, b, c])
            #expect(try await api.listIDs("sort=name") == [c, b, a], "direction defaults to desc")
            #expect(try await api.listIDs("sort=disk_format:desc,size:asc") == [c, a, b])
            #expect(try await api.listIDs("sort=size:desc,name") == [a, b, c])
            #expect(try await api.listIDs("sort=status:asc,created_at:asc") == [a, c, b])
        }
    }

    @Test func pagingWithASortKeyFollowsTheOrder() async throws {
        try await withGlimpse { api in
            let (a, b, c) = try await Self.seed(api)
            let first = try await api.listIDs("sort_key=name&sort_dir=asc&limit=1")
            #expect(first == [a])
            #expect(try await api.listIDs("sort_key=name&sort_dir=asc&limit=1&marker=\(a)") == [b])
            #expect(try await api.listIDs("sort_key=name&sort_dir=asc&limit=5&marker=\(b)") == [c])
        }
    }

    @Test(arguments: [
        "sort=name:asc&sort_key=name", "sort=name&sort_dir=asc", "sort_key=nope", "sort=nope:asc", "sort=name:up",
        "sort_dir=sideways", "sort_key=name&sort_key=size&sort_dir=asc&sort_dir=desc&sort_dir=asc",
        "sort_dir=asc&sort_dir=desc", "sort_key=min_ram", "sort_key=owner",
    ])
    func badSortingIs400(query: String) async throws {
        try await withGlimpse { api in
            expectError(try await api.get("/v2/images?\(query)"), .badRequest)
        }
    }

    @Test func badSortKeyMessage() async throws {
        try await withGlimpse { api in
            expectError(
                try await api.get("/v2/images?sort_key=nope"), .badRequest,
                containing: "Invalid sort key: nope. It must be one of the following:")
        }
    }
}

@Suite struct ListFilterTests {
    @Test func columnFiltersAndIn() async throws {
        try await withGlimpse { api in
            let a = try await api.createImage(#"{"name":"alpha","disk_format":"raw","container_format":"bare"}"#)
            let b = try await api.createImage(#"{"name":"beta","disk_format":"qcow2","container_format":"ovf"}"#)
            let c = try await api.createImage(#"{"name":"gamma,delta","disk_format":"iso","container_format":"bare"}"#)
            try await api.upload(a, Payload.hello)
            #expect(try await api.listIDs("name=alpha") == [a])
            #expect(try await api.listIDs("name=alp") == [], "exact match only")
            #expect(Set(try await api.listIDs("name=in:alpha,beta")) == [a, b])
            #expect(Set(try await api.listIDs("name=in:%22gamma,delta%22,beta")) == [b, c])
            #expect(try await api.listIDs("id=\(b)") == [b])
            #expect(Set(try await api.listIDs("id=in:\(a),\(c)")) == [a, c])
            #expect(try await api.listIDs("status=active") == [a])
            #expect(Set(try await api.listIDs("status=queued")) == [b, c])
            #expect(Set(try await api.listIDs("status=in:active,queued")) == [a, b, c])
            #expect(try await api.listIDs("disk_format=qcow2") == [b])
            #expect(Set(try await api.listIDs("disk_format=in:qcow2,iso")) == [b, c])
            #expect(Set(try await api.listIDs("container_format=bare")) == [a, c])
            #expect(try await api.listIDs("container_format=in:ovf") == [b])
            #expect(try await api.listIDs("checksum=\(Payload.helloMD5)") == [a])
            #expect(try await api.listIDs("os_hash_value=\(Payload.helloSHA512)") == [a])
            #expect(try await api.listIDs("checksum=00000000000000000000000000000000") == [])
        }
    }

    @Test func ownerFilter() async throws {
        try await withGlimpse { api in
            let mine = try await api.createImage()
            let theirs = try await api.createImage(#"{"visibility":"public"}"#, as: .admin)
            #expect(Set(try await api.listIDs()) == [mine, theirs])
            #expect(try await api.listIDs("owner=p-owner") == [mine])
            #expect(try await api.listIDs("owner=p-admin") == [theirs])
        }
    }

    @Test func visibilityFilter() async throws {
        try await withGlimpse { api in
            let priv = try await api.createImage(#"{"visibility":"private"}"#)
            let shared = try await api.createImage(#"{"visibility":"shared"}"#)
            let comm = try await api.createImage(#"{"visibility":"community"}"#)
            let pub = try await api.createImage(#"{"visibility":"public"}"#, as: .admin)
            let otherComm = try await api.createImage(#"{"visibility":"community"}"#, as: .other)
            let otherPriv = try await api.createImage(#"{"visibility":"private"}"#, as: .other)
            #expect(Set(try await api.listIDs()) == [priv, shared, comm, pub], "others' community images need a filter")
            #expect(try await api.listIDs("visibility=private") == [priv])
            #expect(try await api.listIDs("visibility=shared") == [shared])
            #expect(Set(try await api.listIDs("visibility=community")) == [comm, otherComm])
            #expect(try await api.listIDs("visibility=public") == [pub])
            #expect(Set(try await api.listIDs("visibility=all")) == [priv, shared, comm, pub, otherComm])
            // Admins see every project's images; a visibility filter narrows them.
            #expect(Set(try await api.listIDs(as: .admin)) == [priv, shared, comm, pub, otherComm, otherPriv])
            #expect(Set(try await api.listIDs("visibility=private", as: .admin)) == [priv, otherPriv])
            expectError(try await api.get("/v2/images?visibility=everyone"), .badRequest)
        }
    }

    @Test func memberStatusFilter() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            for p in ["p-pending", "p-accepted", "p-rejected"] {
                #expect(try await api.post("/v2/images/\(id)/members", json: #"{"member":"\#(p)"}"#).status == .ok)
            }
            for who in [Who.accepted, .rejected] {
                let status = who.project.dropFirst(2)
                let r = try await api.putJSON("/v2/images/\(id)/members/\(who.project)", json: #"{"status":"\#(status)"}"#, as: who)
                #expect(r.status == .ok, "\(r)")
            }
            for (who, status) in [(Who.pending, "pending"), (.accepted, "accepted"), (.rejected, "rejected")] {
                #expect(try await api.listIDs(as: who) == (status == "accepted" ? [id] : []), "\(who) default")
                for filter in ["pending", "accepted", "rejected"] {
                    #expect(
                        try await api.listIDs("member_status=\(filter)", as: who) == (filter == status ? [id] : []),
                        "\(who) member_status=\(filter)")
                }
                #expect(try await api.listIDs("member_status=all", as: who) == [id], "\(who) all")
                #expect(try await api.listIDs("visibility=shared&member_status=all", as: who) == [id])
            }
            #expect(try await api.listIDs("member_status=all", as: .other) == [])
            expectError(try await api.get("/v2/images?member_status=maybe"), .badRequest)
        }
    }

    @Test func tagFilterIsRepeatableAndAllMustMatch() async throws {
        try await withGlimpse { api in
            let ab = try await api.createImage(#"{"tags":["a","b"]}"#)
            let a = try await api.createImage(#"{"tags":["a"]}"#)
            try await api.createImage(#"{"tags":["c"]}"#)
            #expect(Set(try await api.listIDs("tag=a")) == [ab, a])
            #expect(try await api.listIDs("tag=a&tag=b") == [ab])
            #expect(try await api.listIDs("tag=b&tag=c") == [])
        }
    }

    @Test func osHiddenFilterIsCaseInsensitive() async throws {
        try await withGlimpse { api in
            let shown = try await api.createImage()
            let hidden = try await api.createImage(#"{"os_hidden":true}"#)
            #expect(try await api.listIDs() == [shown], "hidden images are left out by default")
            for v in ["true", "True", "TRUE"] { #expect(try await api.listIDs("os_hidden=\(v)") == [hidden]) }
            for v in ["false", "False"] { #expect(try await api.listIDs("os_hidden=\(v)") == [shown]) }
            expectError(try await api.get("/v2/images?os_hidden=yes"), .badRequest)
            expectError(try await api.get("/v2/images?os_hidden=1"), .badRequest)
            // Hidden images are still shown by id.
            #expect(try await api.get("/v2/images/\(hidden)").status == .ok)
        }
    }

    @Test func protectedFilter() async throws {
        try await withGlimpse { api in
            let p = try await api.createImage(#"{"protected":true}"#)
            let u = try await api.createImage()
            #expect(try await api.listIDs("protected=true") == [p])
            #expect(try await api.listIDs("protected=false") == [u])
            expectError(try await api.get("/v2/images?protected=yes"), .badRequest)
            expectError(try await api.get("/v2/images?protected=True"), .badRequest)
        }
    }

    @Test func sizeMinAndMax() async throws {
        try await withGlimpse { api in
            let small = try await api.createImage()
            let big = try await api.createImage()
            try await api.createImage()  // queued: no size
            try await api.upload(small, Array(repeating: 0, count: 10))
            try await api.upload(big, Array(repeating: 0, count: 100))
            #expect(try await api.listIDs("size_min=50") == [big])
            #expect(try await api.listIDs("size_max=50") == [small])
            #expect(Set(try await api.listIDs("size_min=10&size_max=100")) == [small, big])
            #expect(try await api.listIDs("size_min=11&size_max=99") == [])
            expectError(try await api.get("/v2/images?size_min=big"), .badRequest)
            expectError(try await api.get("/v2/images?size_max=1.5"), .badRequest)
        }
    }

    @Test func createdAtAndUpdatedAtOperators() async throws {
        try await withGlimpse { api in
            let old = try await api.createImage()
            let oldCreated = try #require(try await api.image(old)["created_at"]?.string)
            // Wire timestamps have whole seconds: wait for the next one.
            try await Task.sleep(for: .milliseconds(1100))
            let new = try await api.createImage()
            let newCreated = try #require(try await api.image(new)["created_at"]?.string)
            #expect(oldCreated < newCreated)
            #expect(try await api.listIDs("created_at=gt:\(oldCreated)") == [new])
            #expect(try await api.listIDs("created_at=gte:\(newCreated)") == [new])
            #expect(Set(try await api.listIDs("created_at=gte:\(oldCreated)")) == [old, new])
            #expect(try await api.listIDs("created_at=lt:\(newCreated)") == [old])
            #expect(Set(try await api.listIDs("created_at=lte:\(newCreated)")) == [old, new])
            #expect(try await api.listIDs("created_at=eq:\(oldCreated)") == [old])
            #expect(try await api.listIDs("created_at=neq:\(oldCreated)") == [new])
            #expect(try await api.listIDs("updated_at=gt:\(oldCreated)") == [new])
            // An offset form of the same instant.
            #expect(try await api.listIDs("created_at=lt:2000-01-01T00:00:00%2B00:00") == [])
            expectError(try await api.get("/v2/images?created_at=gt:yesterday"), .badRequest)
            expectError(try await api.get("/v2/images?created_at=around:\(oldCreated)"), .badRequest)
        }
    }

    @Test func extraPropertyExactMatch() async throws {
        try await withGlimpse { api in
            let scsi = try await api.createImage(#"{"hw_disk_bus":"scsi","os_distro":"cirros"}"#)
            let ide = try await api.createImage(#"{"hw_disk_bus":"ide","os_distro":"cirros"}"#)
            try await api.createImage()
            #expect(try await api.listIDs("hw_disk_bus=scsi") == [scsi])
            #expect(Set(try await api.listIDs("os_distro=cirros")) == [scsi, ide])
            #expect(try await api.listIDs("os_distro=cirros&hw_disk_bus=ide") == [ide])
            #expect(try await api.listIDs("hw_disk_bus=sc") == [])
            #expect(try await api.listIDs("nonexistent_property=x") == [])
        }
    }

    @Test func changesSinceIs400() async throws {
        try await withGlimpse { api in
            expectError(
                try await api.get("/v2/images?changes-since=2020-01-01T00:00:00Z"), .badRequest,
                containing: "changes-since")
        }
    }

    @Test func openstackClientListQuery() async throws {
        // A.3: `--public --name cirros1 --status active --tag t1 --limit 2`.
        try await withGlimpse { api in
            let id = try await api.createImage(
                #"{"name":"cirros1","visibility":"public","tags":["t1"],"disk_format":"raw","container_format":"bare"}"#,
                as: .admin)
            try await api.upload(id, Payload.hello, as: .admin)
            try await api.createImage(#"{"name":"cirros1","visibility":"public"}"#, as: .admin)
            #expect(try await api.listIDs("limit=2&name=cirros1&visibility=public&status=active&tag=t1") == [id])
        }
    }
}
