import Foundation
import GlimpseCore
import GlimpseStorage
import Testing

/// The contract every `MetadataStore` backend must meet.
@Suite("MetadataStore contract")
struct MetadataStoreContractTests {
    static let owner = Caller(userID: "u1", projectID: "p1", roles: ["reader", "member"])
    static let other = Caller(userID: "u2", projectID: "p2", roles: ["reader", "member"])
    static let admin = Caller(userID: "a", projectID: "admin", roles: ["admin", "reader", "member"])

    static func image(
        _ n: Int, owner: String = "p1", visibility: Visibility = .private, status: ImageStatus = .queued,
        properties: [String: String] = [:], tags: [String] = [], size: Int64? = nil
    ) -> Image {
        let t = Timestamp(microseconds: 1_700_000_000_000_000 + Int64(n) * 1000)
        return Image(
            id: String(format: "00000000-0000-4000-8000-%012d", n), name: "image-\(n)", status: status,
            visibility: visibility, owner: owner, size: size, diskFormat: "raw", containerFormat: "bare",
            createdAt: t, updatedAt: t, tags: tags, properties: properties)
    }

    @Test(arguments: MetadataBackend.allCases)
    func roundTripsEveryAttribute(_ backend: MetadataBackend) async throws {
        let (store, reopen) = try await backend.make()
        var img = Self.image(1, visibility: .shared, properties: ["hw_disk_bus": "scsi", "owner_specified.openstack.md5": ""], tags: ["b", "a"])
        img.protected = true
        img.osHidden = true
        img.minRAM = 512
        img.minDisk = 3
        img.checksum = "c"
        img.osHashAlgo = "sha512"
        img.osHashValue = "v"
        img.size = 42
        img.virtualSize = 4096
        try await store.insertImage(img)
        #expect(try await store.image(id: img.id) == img)
        #expect(try await reopen().image(id: img.id) == img, "a reopened store returns the same record")
        #expect(try await store.image(id: "00000000-0000-4000-8000-999999999999") == nil)
    }

    @Test(arguments: MetadataBackend.allCases)
    func everyReadSeesTheLatestWriteEvenUnderConcurrentReads(_ backend: MetadataBackend) async throws {
        // Reads may be served from memory; no write may ever be hidden by what was read before it.
        let store = try await backend.make().store
        let img = Self.image(1, properties: ["v": "0"])
        try await store.insertImage(img)
        for round in 1...50 {
            async let readers: Void = withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { _ = try await store.image(id: img.id) } }
                try await group.waitForAll()
            }
            _ = try await store.updateImage(id: img.id) { $0.properties["v"] = String(round) }
            try await readers
            #expect(try await store.image(id: img.id)?.properties["v"] == String(round), "round \(round)")
        }
        _ = try await store.deleteImage(id: img.id, onlyIf: { _ in })
        #expect(try await store.image(id: img.id) == nil, "a deleted image is not served from memory")
    }

    @Test(arguments: MetadataBackend.allCases)
    func duplicateIDsAreAConflict(_ backend: MetadataBackend) async throws {
        let store = try await backend.make().store
        try await store.insertImage(Self.image(1))
        await #expect(throws: GlimpseError.conflict("An image with identifier \(Self.image(1).id) already exists")) {
            try await store.insertImage(Self.image(1))
        }
    }

    @Test(arguments: MetadataBackend.allCases)
    func anUpdateThatThrowsChangesNothing(_ backend: MetadataBackend) async throws {
        let store = try await backend.make().store
        let img = Self.image(1, properties: ["a": "1"], tags: ["t"])
        try await store.insertImage(img)
        await #expect(throws: GlimpseError.self) {
            try await store.updateImage(id: img.id) { i in
                i.name = "changed"
                i.properties["b"] = "2"
                throw GlimpseError.badRequest("no")
            }
        }
        #expect(try await store.image(id: img.id) == img)
        let updated = try await store.updateImage(id: img.id) { i in
            i.properties["b"] = "2"
            i.properties["a"] = nil
            i.tags = ["x", "t"]
        }
        #expect(updated.properties == ["b": "2"])
        #expect(try await store.image(id: img.id)?.tags == ["x", "t"])
        await #expect(throws: GlimpseError.noImage("missing")) {
            try await store.updateImage(id: "missing") { _ in }
        }
    }

    @Test(arguments: MetadataBackend.allCases)
    func onlyOneOfManyRacingTransitionsWins(_ backend: MetadataBackend) async throws {
        let store = try await backend.make().store
        let img = Self.image(1)
        try await store.insertImage(img)
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    do {
                        try await store.transition(id: img.id, from: [.queued], to: .saving)
                        return true
                    } catch let e as GlimpseError where e.kind == .conflict {
                        return false
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        #expect(try await store.image(id: img.id)?.status == .saving)
    }

    @Test(arguments: MetadataBackend.allCases)
    func deleteHonoursItsCheckAndRemovesEverything(_ backend: MetadataBackend) async throws {
        let store = try await backend.make().store
        let img = Self.image(1, visibility: .shared, properties: ["k": "v"], tags: ["t"])
        try await store.insertImage(img)
        let now = Timestamp(microseconds: 1)
        try await store.insertMember(.init(imageID: img.id, memberID: "p2", status: .pending, createdAt: now, updatedAt: now), limit: 10)
        await #expect(throws: GlimpseError.forbidden("protected")) {
            _ = try await store.deleteImage(id: img.id) { _ in throw GlimpseError.forbidden("protected") }
        }
        #expect(try await store.image(id: img.id) != nil)
        #expect(try await store.deleteImage(id: img.id) { _ in } == img)
        #expect(try await store.image(id: img.id) == nil)
        #expect(try await store.members(imageID: img.id).isEmpty)
        #expect(try await store.deleteImage(id: img.id) { _ in } == nil)
        // The id can be used again and starts clean.
        try await store.insertImage(Self.image(1))
        #expect(try await store.image(id: img.id)?.properties == [:])
    }

    @Test(arguments: MetadataBackend.allCases)
    func membersHaveLimitsAndStatuses(_ backend: MetadataBackend) async throws {
        let store = try await backend.make().store
        let img = Self.image(1, visibility: .shared)
        try await store.insertImage(img)
        let t = Timestamp(microseconds: 5)
        try await store.insertMember(.init(imageID: img.id, memberID: "p2", status: .pending, createdAt: t, updatedAt: t), limit: 2)
        await #expect(throws: GlimpseError.self) {
            try await store.insertMember(.init(imageID: img.id, memberID: "p2", status: .pending, createdAt: t, updatedAt: t), limit: 2)
        }
        try await store.insertMember(.init(imageID: img.id, memberID: "p3", status: .pending, createdAt: t, updatedAt: t), limit: 2)
        do {
            try await store.insertMember(.init(imageID: img.id, memberID: "p4", status: .pending, createdAt: t, updatedAt: t), limit: 2)
            Issue.record("a third member over a limit of 2 was accepted")
        } catch let e as GlimpseError {
            #expect(e.kind == .tooLarge)
        }
        let later = Timestamp(microseconds: 9)
        let m = try await store.updateMember(imageID: img.id, memberID: "p2", status: .accepted, at: later)
        #expect(m?.status == .accepted && m?.updatedAt == later && m?.createdAt == t)
        #expect(try await store.members(imageID: img.id).map(\.memberID).sorted() == ["p2", "p3"])
        #expect(try await store.deleteMember(imageID: img.id, memberID: "p3"))
        #expect(try await store.deleteMember(imageID: img.id, memberID: "p3") == false)
        #expect(try await store.updateMember(imageID: img.id, memberID: "p9", status: .accepted, at: later) == nil)
    }

    @Test(arguments: MetadataBackend.allCases)
    func listingRespectsScopeFiltersAndPaging(_ backend: MetadataBackend) async throws {
        let store = try await backend.make().store
        try await store.insertImage(Self.image(1, owner: "p1", visibility: .private, status: .active, properties: ["g": "a"], tags: ["x"], size: 10))
        try await store.insertImage(Self.image(2, owner: "p2", visibility: .private))
        try await store.insertImage(Self.image(3, owner: "p2", visibility: .public, status: .active, size: 30))
        try await store.insertImage(Self.image(4, owner: "p2", visibility: .community))
        try await store.insertImage(Self.image(5, owner: "p2", visibility: .shared))
        try await store.insertImage(Self.image(6, owner: "p2", visibility: .shared))
        try await store.insertImage(Self.image(7, owner: "p1", visibility: .shared, status: .killed))
        var hidden = Self.image(8, owner: "p1")
        hidden.osHidden = true
        try await store.insertImage(hidden)
        let t = Timestamp(microseconds: 1)
        try await store.insertMember(.init(imageID: Self.image(5).id, memberID: "p1", status: .accepted, createdAt: t, updatedAt: t), limit: 10)
        try await store.insertMember(.init(imageID: Self.image(6).id, memberID: "p1", status: .pending, createdAt: t, updatedAt: t), limit: 10)

        func names(_ items: [(String, String)], _ caller: Caller = Self.owner) async throws -> [String] {
            try await store.listImages(try ImageListQuery.parse(items), caller: caller, after: nil).compactMap(\.name)
        }
        // Default: own, public, shared-with-me accepted; newest first; no community, killed or hidden.
        #expect(try await names([]) == ["image-5", "image-3", "image-1"])
        #expect(try await names([("member_status", "pending")]) == ["image-6", "image-3", "image-1"])
        #expect(try await names([("member_status", "all")]) == ["image-6", "image-5", "image-3", "image-1"])
        #expect(try await names([("visibility", "community")]) == ["image-4"])
        #expect(try await names([("visibility", "all")]) == ["image-5", "image-4", "image-3", "image-1"])
        #expect(try await names([("visibility", "private")]) == ["image-1"])
        #expect(try await names([("os_hidden", "TRUE")]) == ["image-8"])
        #expect(try await names([], Self.admin) == ["image-6", "image-5", "image-4", "image-3", "image-2", "image-1"])
        #expect(try await names([("g", "a")]) == ["image-1"])
        #expect(try await names([("tag", "x"), ("tag", "y")]) == [])
        #expect(try await names([("size_min", "20")]) == ["image-3"])
        #expect(try await names([("status", "in:active,queued"), ("sort", "name:asc")]) == ["image-1", "image-3", "image-5"])
        #expect(try await names([("sort_key", "size"), ("sort_dir", "asc")]) == ["image-5", "image-1", "image-3"])

        // Keyset paging walks the whole list exactly once, whatever the page size.
        for limit in 1...4 {
            var seen: [String] = []
            var marker: Image?
            while true {
                var q = try ImageListQuery.parse([("visibility", "all"), ("sort", "name:asc")])
                q.limit = limit
                let page = try await store.listImages(q, caller: Self.owner, after: marker)
                seen += page.compactMap(\.name)
                if page.count < limit { break }
                marker = page.last
            }
            #expect(seen == ["image-1", "image-3", "image-4", "image-5"], "limit \(limit)")
        }
    }

    @Test(arguments: MetadataBackend.allCases)
    func usageAndStatusQueries(_ backend: MetadataBackend) async throws {
        let store = try await backend.make().store
        try await store.insertImage(Self.image(1, status: .active, size: 100))
        try await store.insertImage(Self.image(2, status: .saving))
        try await store.insertImage(Self.image(3, owner: "p2", status: .active, size: 7))
        #expect(try await store.storageUsed(byOwner: "p1") == 100)
        #expect(try await store.storageUsed(byOwner: "nobody") == 0)
        #expect(try await store.images(inStatus: .saving).map(\.id) == [Self.image(2).id])
        #expect(try await store.allImageIDs() == Set([1, 2, 3].map { Self.image($0).id }))
    }
}
