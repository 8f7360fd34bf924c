import Testing

// Requests the fuzz harness (tests/fuzz) found ending, stalling or erring the service, each pinned through HTTP:
// the answer is the API's ordinary 4xx error body.
@Suite struct HostileInputTests {
    /// A PATCH of `/tags` with 20,000 distinct tags (the de-duplication was quadratic before the quota check) is refused by the tag quota,
    /// and duplicates in an ordinary list still collapse.
    @Test func manyTagsAreRefusedByTheQuota() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let tags = (0..<20_000).map { "\"\($0)\"" }.joined(separator: ",")
            let r = try await api.patch(id, #"[{"op":"add","path":"/tags","value":[\#(tags)]}]"#)
            expectError(r, .contentTooLarge, containing: "Maximum number of tags exceeded")
            let ok = try await api.patch(id, #"[{"op":"add","path":"/tags","value":["a","b","a","b","c"]}]"#)
            #expect(ok.status == .ok, "\(ok)")
            #expect(ok["tags"] == .array([.string("a"), .string("b"), .string("c")]))
        }
    }
}
