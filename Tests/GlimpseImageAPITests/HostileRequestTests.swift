import Foundation
import HTTPTypes
import NIOCore
import Testing

/// Requests that used to end the process (a trap in a parser) or answer 500: each must get a 4xx with an
/// OpenStack error body, and the service must keep answering afterwards.
@Suite struct HostileRequestTests {
    @Test(arguments: [":", "name,:", "::", ":asc", "name:,", ",,"])
    func emptySortPiecesAre400(_ sort: String) async throws {
        try await withGlimpse { api in
            let query = sort.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? sort
            let r = try await api.get("/v2/images?sort=\(query)")
            #expect(r.status == .badRequest || r.status == .ok, "sort=\(sort): \(r)")
            if r.status != .ok { expectError(r, .badRequest) }
            #expect(try await api.get("/v2/images").status == .ok, "still serving")
        }
    }

    @Test(arguments: ["", ";", " ; charset=utf-8"])
    func contentTypesWithoutAMediaTypeAre415(_ type: String) async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let patch = try await api.send(
                .patch, "/v2/images/\(id)", headers: [.contentType: type], body: ByteBuffer(string: "[]"))
            expectError(patch, .unsupportedMediaType)
            expectError(try await api.put("/v2/images/\(id)/file", data: Payload.hello, type: type), .unsupportedMediaType)
            let stage = try await api.put("/v2/images/\(id)/stage", data: Payload.hello, type: type)
            #expect(stage.status.code < 500, "\(stage)")
            #expect(try await api.get("/v2/images").status == .ok, "still serving")
        }
    }

    @Test func aJSONBodyCutShortIs400() async throws {
        try await withGlimpse { api in
            // Chunked body whose last chunk never comes: the connection closes mid-body.
            let request = Array("""
                POST /v2/images HTTP/1.1\r
                Host: x\r
                X-User-Id: u\r
                X-Project-Id: p\r
                X-Roles: member,reader\r
                Content-Type: application/json\r
                Transfer-Encoding: chunked\r
                \r
                5\r
                {"nam\r
                zz\r

                """.utf8)
            let answer = try await api.raw(request)
            #expect(!answer.contains(" 500 "), "\(answer)")
            #expect(answer.isEmpty || answer.hasPrefix("HTTP/1.1 400"), "\(answer)")
            #expect(try await api.get("/v2/images").status == .ok, "still serving")
        }
    }
}
