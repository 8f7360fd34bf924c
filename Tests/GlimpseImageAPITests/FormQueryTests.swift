import Foundation
import HTTPTypes
import Testing

/// Query strings decode as forms do: Python clients send a space as `+` (openstacksdk's `find_image('Test Image')`
/// asks `?name=Test+Image`), and `%2B` is a plus.
@Suite struct FormQueryTests {
    func createNamed(_ name: String, _ api: API, tags: [String] = []) async throws -> String {
        let tagList = tags.map { "\"\($0)\"" }.joined(separator: ",")
        let r = try await api.post(
            "/v2/images", json: #"{"name":"\#(name)","disk_format":"raw","container_format":"bare","tags":[\#(tagList)]}"#)
        #expect(r.status == .created, "create \(name): \(r)")
        return try #require(r["id"]?.string)
    }

    @Test func plusIsASpaceAndPercent2BIsAPlus() async throws {
        try await withGlimpse { api in
            let spaced = try await createNamed("Test Image", api)
            let plussed = try await createNamed("a+b", api)
            #expect(try await api.listIDs("name=Test+Image") == [spaced])
            #expect(try await api.listIDs("name=Test%20Image") == [spaced])
            #expect(try await api.listIDs("name=a%2Bb") == [plussed])
            #expect(try await api.listIDs("name=a+b") == [])
        }
    }

    @Test func tagsAndNextLinksKeepTheDecodedValue() async throws {
        try await withGlimpse { api in
            let first = try await createNamed("one", api, tags: ["blue sky"])
            let second = try await createNamed("two", api, tags: ["blue sky"])
            _ = try await createNamed("three", api, tags: ["grey"])
            let page = try await api.get("/v2/images?tag=blue+sky&limit=1")
            let ids = page["images"]?.array?.compactMap { $0["id"]?.string } ?? []
            #expect(ids.count == 1)
            // The next link must ask for the same filter: following it gives the other tagged image.
            let next = try #require(page["next"]?.string)
            let rest = try await api.get(next)
            let restIDs = rest["images"]?.array?.compactMap { $0["id"]?.string } ?? []
            #expect(Set(ids + restIDs) == [first, second])
        }
    }
}
