import Foundation
import HTTPTypes
import Testing

/// Every answer under `/identity` that is an error has Keystone's shape, including the router's own 404 and 405,
/// and identity queries decode `+` as a space.
@Suite struct IdentityErrorShapeTests {
    func expectKeystoneError(_ a: Answer, _ status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.status == status, "\(a)", sourceLocation: sourceLocation)
        #expect(a.json["error"]?["code"] == .int(Int64(status.code)), "\(a)", sourceLocation: sourceLocation)
        #expect(a.json["error"]?["title"]?.str == status.reasonPhrase, "\(a)", sourceLocation: sourceLocation)
        #expect(a.json["error"]?["message"]?.str?.isEmpty == false, "\(a)", sourceLocation: sourceLocation)
        #expect(a.json["message"] == nil, "Glance's shape leaked: \(a)", sourceLocation: sourceLocation)
    }

    @Test func unknownPathsAndMethodsAnswerInKeystonesShape() async throws {
        try await withCloud { cloud in
            let token = try await cloud.adminToken()
            expectKeystoneError(try await cloud.call(.get, "/identity/v3/no-such-collection", token: token), .notFound)
            expectKeystoneError(try await cloud.call(.get, "/identity/v4", token: token), .notFound)
            let wrongMethod = try await cloud.call(.patch, "/identity/v3/auth/tokens", token: token)
            expectKeystoneError(wrongMethod, .methodNotAllowed)
            #expect(wrongMethod.header("Allow")?.contains("GET") == true, "\(wrongMethod)")
            // The image API keeps Glance's shape for the same mistakes.
            let image404 = try await cloud.call(.get, "/v2/no-such-collection", token: token)
            #expect(image404.status == .notFound)
            #expect(image404.json["code"]?.str == "404 Not Found", "\(image404)")
        }
    }

    @Test func projectNamesWithSpacesAreFoundByPlus() async throws {
        try await withCloud { cloud in
            let token = try await cloud.adminToken()
            let created = try await cloud.call(
                .post, "/identity/v3/projects", token: token, json: #"{"project":{"name":"my proj","domain_id":"default"}}"#)
            #expect(created.status == .created, "\(created)")
            let found = try await cloud.call(.get, "/identity/v3/projects?name=my+proj", token: token)
            let names = found.json["projects"]?.list.compactMap { $0["name"]?.str } ?? []
            #expect(names == ["my proj"], "\(found)")
        }
    }
}
