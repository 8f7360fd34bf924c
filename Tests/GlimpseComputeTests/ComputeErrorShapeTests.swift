import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// The router's own 404 and 405 under `/compute` have Nova's fault shape.
@Suite struct ComputeErrorShapeTests {
    @Test func unknownPathsAndMethodsAnswerNovaFaults() async throws {
        try await withGlimpse { api in
            let missing = try await api.get("/compute/v2.1/no-such-collection")
            #expect(missing.status == .notFound)
            #expect(missing["itemNotFound"]?["code"]?.int == 404, "\(missing)")
            let wrongMethod = try await api.send(.patch, "/compute/v2.1/flavors")
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod["badMethod"]?["code"]?.int == 405, "\(wrongMethod)")
        }
    }
}

/// Nova with `enforce_scope`: server rules are project-scoped, so a system-scoped administrator is refused (403
/// "Policy doesn't allow ..."); flavor reads have no rule and stay open.
@Suite struct ComputeScopeTests {
    static let systemAdmin: HTTPFields = [
        HTTPField.Name("X-User-Id")!: "user-cloud-admin", HTTPField.Name("X-Roles")!: "admin,member,reader",
        HTTPField.Name("OpenStack-System-Scope")!: "all",
    ]

    @Test func systemScopedTokensCannotUseServers() async throws {
        try await withGlimpse { api in
            let list = try await api.client.executeRequest(
                uri: "/compute/v2.1/servers", method: .get, headers: Self.systemAdmin, body: nil)
            #expect(list.status == .forbidden)
            #expect(String(buffer: list.body).contains("Policy doesn't allow os_compute_api:servers:index to be performed."))
            let flavors = try await api.client.executeRequest(
                uri: "/compute/v2.1/flavors", method: .get, headers: Self.systemAdmin, body: nil)
            #expect(flavors.status == .ok)
            let manage = try await api.client.executeRequest(
                uri: "/compute/v2.1/flavors", method: .post,
                headers: Self.systemAdmin.merging([.contentType: "application/json"]),
                body: .init(string: #"{"flavor":{"name":"f","ram":1,"vcpus":1,"disk":1}}"#))
            #expect(manage.status == .forbidden)
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
