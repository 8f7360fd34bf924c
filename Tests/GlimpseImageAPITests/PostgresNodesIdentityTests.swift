import Foundation
import GlimpseCore
import GlimpseIdentity
import GlimpsePostgres
import GlimpsePostgresTesting
import GlimpseServer
import GlimpseStorage
import HTTPTypes
import HummingbirdTesting
import Logging
import Testing

/// The built-in identity in PostgreSQL, shared by two nodes that each have a long token cache configured: what one
/// node revokes (a token, a role, a user) fails on the other at once.
@Suite("PostgreSQL nodes: identity")
struct PostgresNodesIdentityTests {
    static let adminPassword = "pg-nodes-Admin-pw"
    /// Long enough that a cached validation would outlive every test here.
    static let cacheTTL: Duration = .seconds(600)

    // MARK: two identity services

    static func service(_ database: PostgresTestDatabase, cacheTTL: Duration = cacheTTL) async throws -> IdentityService {
        let logger = Logger(label: "glimpse.test.pg-identity")
        let store = try await PostgresIdentityStore.open(database.configuration, logger: logger)
        let service = IdentityService(
            store: store,
            options: IdentityOptions(publicURL: "http://glimpse.test:9292", cacheTTL: cacheTTL, passwordRounds: 2_000),
            logger: logger)
        _ = try await service.bootstrap(adminPassword: adminPassword)
        return service
    }

    static func adminLogin(_ service: IdentityService) async throws -> (token: String, context: AuthContext) {
        try await service.authenticate(AuthRequest(
            method: .password(userID: nil, userName: "admin", domainID: "default", domainName: nil, password: adminPassword),
            scope: .projectName("admin", domainID: "default", domainName: nil)))
    }

    @Test func aTokenRevokedOrAUserDisabledOnOneServiceFailsOnTheOtherAtOnce() async throws {
        let database = try await PostgresTestCluster.shared.makeDatabase()
        let a = try await Self.service(database)
        let b = try await Self.service(database)

        let first = try await Self.adminLogin(a)
        #expect(try await b.validate(first.token)?.user.id == first.context.user.id, "B accepts A's token")
        #expect(try await a.revoke(first.token))
        #expect(try await b.validate(first.token) == nil, "revoked on A, refused by B at once")

        let second = try await Self.adminLogin(a)
        #expect(try await b.validate(second.token) != nil)
        var disabled = first.context.user
        disabled.enabled = false
        try await a.store.updateUser(disabled)
        #expect(try await b.validate(second.token) == nil, "user disabled through A, refused by B at once")
        disabled.enabled = true
        try await a.store.updateUser(disabled)

        #expect(try await b.validate(second.token) != nil, "enabled again")
        _ = try await a.store.deleteUser(id: first.context.user.id)
        #expect(try await b.validate(second.token) == nil, "user deleted through A, refused by B at once")
    }

    @Test func nodesBootstrappingOneDatabaseAtOnceAllStartWithOneAdmin() async throws {
        let database = try await PostgresTestCluster.shared.makeDatabase()
        let services = try await withThrowingTaskGroup(of: IdentityService.self) { group in
            for _ in 0..<3 { group.addTask { try await Self.service(database) } }
            return try await group.reduce(into: [IdentityService]()) { $0.append($1) }
        }
        let store = try #require(services.first?.store)
        let admins = try await store.users().filter { $0.name == "admin" }
        #expect(admins.count == 1)
        let roleNames = try await store.roles().map(\.name)
        #expect(roleNames == ["admin", "member", "reader", "service"])
        #expect(try await store.domains().map(\.name) == ["Default"])
        for service in services {
            let valid = try await service.validate(Self.adminLogin(service).token) != nil
            #expect(valid, "every node logs the admin in")
        }
    }

    @Test func aCachedValidationCostsOneQueryAFullOneAboutTen() async throws {
        let database = try await PostgresTestCluster.shared.makeDatabase()
        let cached = try await Self.service(database)
        let uncached = try await Self.service(database, cacheTTL: .zero)
        let token = try await Self.adminLogin(cached).token
        let rounds = 200
        let clock = ContinuousClock()
        var timings: [String: Duration] = [:]
        for (name, service) in [("cached (change version only)", cached), ("full (token, user, scope, grants, roles)", uncached)] {
            let elapsed = try await clock.measure {
                for _ in 0..<rounds {
                    let valid = try await service.validate(token) != nil
                    #expect(valid)
                }
            }
            timings[name] = elapsed / rounds
        }
        print("PostgreSQL identity, one token validation on average: \(timings)")
        let cheap = timings.values.allSatisfy { $0 < .milliseconds(200) }
        #expect(cheap, "\(timings)")
    }

    // MARK: two Glimpse nodes over HTTP

    func withNode(_ database: PostgresTestDatabase, _ body: @Sendable (API) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-pg-identity-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var logger = Logger(label: "glimpse-pg-identity-test")
        logger.logLevel = .error
        var config = GlimpseConfiguration(host: "127.0.0.1", port: 0, dataDirectory: dir, auth: .builtin)
        config.database = try PostgresDatabaseURL(parsing: database.url)
        config.identity.adminPassword = Self.adminPassword
        config.identity.passwordRounds = 2_000
        config.identity.tokenCacheTTL = Self.cacheTTL
        let app = try await GlimpseApplication.build(config, logger: logger)
        try await app.test(.live) { client in try await body(API(client: client, dataDirectory: dir)) }
    }

    static func token(_ field: String) -> HTTPFields { [HTTPField.Name("X-Auth-Token")!: field] }

    static func login(_ node: API, user: String, password: String) async throws -> String {
        let body = #"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"\#(user)","domain":{"id":"default"},"password":"\#(password)"}}},"scope":{"project":{"name":"admin","domain":{"id":"default"}}}}}"#
        let reply = try await node.post("/identity/v3/auth/tokens", json: body, as: nil)
        #expect(reply.status == .created, "login \(user): \(reply)")
        return try #require(reply.header("X-Subject-Token"))
    }

    static func images(_ node: API, _ token: String) async throws -> HTTPResponse.Status {
        try await node.get("/v2/images", as: nil, headers: Self.token(token)).status
    }

    @Test func aTokenRevokedOrARoleRemovedOnOneNodeFailsOnTheOtherAtOnce() async throws {
        let database = try await PostgresTestCluster.shared.makeDatabase()
        try await withNode(database) { a in
            try await withNode(database) { b in
                let admin = try await Self.login(a, user: "admin", password: Self.adminPassword)
                #expect(try await Self.images(b, admin) == .ok, "B accepts a token A issued")
                var revoke = Self.token(admin)
                revoke[HTTPField.Name("X-Subject-Token")!] = admin
                let revoked = try await a.send(.delete, "/identity/v3/auth/tokens", as: nil, headers: revoke)
                #expect(revoked.status == .noContent, "revoke on A: \(revoked)")
                #expect(try await Self.images(b, admin) == .unauthorized, "revoked on A, refused by B at once")

                // A user with a role on the admin project; the role is removed on A while B has validated its token.
                let operatorToken = try await Self.login(b, user: "admin", password: Self.adminPassword)
                let projects = try await a.get("/identity/v3/projects?name=admin", as: nil, headers: Self.token(operatorToken))
                let projectID = try #require(projects["projects"]?.array?.first?["id"]?.string)
                let created = try await a.send(
                    .post, "/identity/v3/users", as: nil,
                    headers: Self.token(operatorToken).merging([.contentType: "application/json"]),
                    body: .init(string: #"{"user":{"name":"bob","password":"bob-pw-123","domain_id":"default"}}"#))
                #expect(created.status == .created, "create bob: \(created)")
                let bobID = try #require(created["user"]?["id"]?.string)
                let roles = try await a.get("/identity/v3/roles?name=member", as: nil, headers: Self.token(operatorToken))
                let memberID = try #require(roles["roles"]?.array?.first?["id"]?.string)
                let grantPath = "/identity/v3/projects/\(projectID)/users/\(bobID)/roles/\(memberID)"
                let granted = try await a.send(.put, grantPath, as: nil, headers: Self.token(operatorToken))
                #expect(granted.status == .noContent, "grant: \(granted)")
                let bob = try await Self.login(a, user: "bob", password: "bob-pw-123")
                #expect(try await Self.images(b, bob) == .ok)
                let removed = try await a.send(.delete, grantPath, as: nil, headers: Self.token(operatorToken))
                #expect(removed.status == .noContent, "role removed: \(removed)")
                #expect(try await Self.images(b, bob) == .unauthorized, "role removed on A, refused by B at once")
            }
        }
    }
}
