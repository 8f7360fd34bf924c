import Foundation
import HTTPTypes
import NIOCore
import Testing

/// Glance 33 with `enforce_scope` serves project-scoped tokens only. A system-scoped administrator (keystonemiddleware
/// passes `OpenStack-System-Scope: all` and no project) may not list or create images (403) and finds no image,
/// public ones included (404); so does a domain-scoped one.
@Suite struct ScopeTests {
    static let systemAdmin: HTTPFields = [
        HTTPField.Name("X-User-Id")!: "user-cloud-admin", HTTPField.Name("X-Roles")!: "admin,member,reader",
        HTTPField.Name("OpenStack-System-Scope")!: "all",
    ]
    static let domainAdmin: HTTPFields = [
        HTTPField.Name("X-User-Id")!: "user-domain-admin", HTTPField.Name("X-Roles")!: "admin,member,reader",
        HTTPField.Name("X-Domain-Id")!: "default",
    ]

    @Test(arguments: [systemAdmin, domainAdmin]) func nonProjectScopesGetNothing(headers: HTTPFields) async throws {
        try await withGlimpse { api in
            let id = try await api.createImage(
                #"{"name":"pub","disk_format":"raw","container_format":"bare","visibility":"public"}"#, as: .admin)
            try await api.upload(id, [UInt8](repeating: 7, count: 4096), as: .admin)

            expectError(try await api.send(.get, "/v2/images", as: nil, headers: headers), .forbidden, containing: "get_images")
            let create = try await api.send(
                .post, "/v2/images", as: nil, headers: headers.merging([.contentType: "application/json"]),
                body: .init(string: #"{"name":"x"}"#))
            expectError(create, .forbidden, containing: "add_image")
            expectError(try await api.send(.get, "/v2/images/\(id)", as: nil, headers: headers), .notFound)
            expectError(try await api.send(.get, "/v2/images/\(id)/file", as: nil, headers: headers), .notFound)
            expectError(try await api.send(.delete, "/v2/images/\(id)", as: nil, headers: headers), .notFound)
            // The project-scoped administrator still sees and keeps it.
            #expect(try await api.get("/v2/images/\(id)", as: .admin).status == .ok)
        }
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var merged = self
        for field in other { merged[field.name] = field.value }
        return merged
    }
}
