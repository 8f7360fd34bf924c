import Foundation
import GlimpseCore
import Testing

@testable import GlimpseCompute

// The `name` filter of GET /servers: Nova's regex search for ordinary patterns, linear time for every pattern,
// 400 for syntax outside the supported subset.

@Suite struct NameFilterTests {
    func matches(_ pattern: String, _ name: String) throws -> Bool { try NamePattern(pattern).matches(name) }

    @Test func ordinaryPatternsKeepNovasSearchMeaning() throws {
        #expect(try matches("alpha", "my-alpha-1"))
        #expect(try !matches("^alpha", "my-alpha-1"))
        #expect(try matches("^my-alpha-\\d$", "my-alpha-1"))
        #expect(try !matches("^my-alpha-\\d$", "my-alpha-12"))
        #expect(try matches("web|db", "prod-db-3"))
        #expect(try !matches("^(web|db)$", "prod-db-3"))
        #expect(try matches("^vm-[0-9a-f]+$", "vm-3fa9"))
        #expect(try !matches("^vm-[0-9a-f]+$", "vm-3fz9"))
        #expect(try matches("^[^-]+-x?y*z+$", "abc-zz"))
        #expect(try !matches("^[^-]+-x?y*z+$", "a-b-zz"))
        #expect(try matches("a.c", "xabcx"))
        #expect(try !matches("a.c", "ac"))
        #expect(try matches("v\\.1", "v.1"))
        #expect(try !matches("v\\.1", "vx1"))
        #expect(try matches("^(?:ab)+$", "ababab"))
        #expect(try !matches("^(?:ab)+$", "ababa"))
        #expect(try matches("", "anything"))
        #expect(try matches("\\w+\\s\\S", "é x"))
        #expect(try matches("[]x]", "a]"))
        #expect(try matches("a*?b", "aaab"))
    }

    @Test func pathologicalPatternsMatchInLinearTime() throws {
        // Exponential for a backtracking engine on a long name that does not match.
        let long = String(repeating: "a", count: 255)
        #expect(try !matches("((.*)*)*Z", long))
        #expect(try matches("((.*)*)*Z", long + "Z"))
        #expect(try !matches("^(a+)+$", long + "!"))
        #expect(try !matches("(a|aa)*b", long))
        let nested = String(repeating: "(", count: NamePattern.maxDepth) + ".*" + String(repeating: ")*", count: NamePattern.maxDepth) + "Q"
        #expect(try !matches(nested, long))
    }

    @Test func syntaxOutsideTheSubsetIsABadRequest() {
        for bad in ["(a)\\1", "a{2,3}", "(?=a)", "(?i)a", "\\bword", "a**", "*a", "(a", "a)", "[z-a]", "[abc", "\\"] {
            #expect(throws: GlimpseError.self, "\(bad)") { try NamePattern(bad) }
        }
        #expect(throws: GlimpseError.self) { try NamePattern(String(repeating: "a", count: 256)) }
        #expect(throws: GlimpseError.self) { try NamePattern(String(repeating: "(", count: 40) + String(repeating: ")", count: 40)) }
    }

    @Test func theListAnswersAPathologicalPatternAndStillFiltersOrdinaryOnes() async throws {
        try await withGlimpse { api in
            let image = try await api.image(size: 1 << 16)
            let long = String(repeating: "a", count: 200)
            let a = try await api.server(image: image, name: long)
            let z = try await api.server(image: image, name: "ends-with-Z")
            let r = try await api.get("/compute/v2.1/servers?name=((.*)*)*Z")
            #expect(r.status == .ok, "\(r)")
            #expect(r["servers"]?.array?.compactMap { $0["id"]?.string } == [z])
            let anchored = try await api.get("/compute/v2.1/servers?name=%5Ea%2B%24")  // ^a+$
            #expect(anchored["servers"]?.array?.compactMap { $0["id"]?.string } == [a])
            let bad = try await api.get("/compute/v2.1/servers?name=(a)%5C1")  // (a)\1
            #expect(bad.status == .badRequest, "\(bad)")
            #expect(bad.text.contains("Invalid name filter"))
            // Other requests are answered meanwhile and afterwards.
            #expect(try await api.get("/compute/v2.1/flavors").status == .ok)
        }
    }

    @Test func moreMetadataItemsThanNovasQuotaAreRefused() async throws {
        try await withGlimpse { api in
            let image = try await api.image(size: 1 << 16)
            var items: [String] = []
            for i in 0...128 { items.append(#""k\#(i)":"v""#) }
            let body =
                #"{"server":{"name":"m","flavorRef":"1","imageRef":"\#(image)","networks":"none","metadata":{\#(items.joined(separator: ","))}}}"#
            let tooMany = try await api.post("/compute/v2.1/servers", json: body, version: "2.47")
            #expect(tooMany.status == .forbidden, "\(tooMany)")
        }
    }
}
