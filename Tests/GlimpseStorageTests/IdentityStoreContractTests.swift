import Foundation
import GlimpseCore
import GlimpseStorage
import Testing

/// The contract every `IdentityStore` backend must meet: records round-trip, uniqueness is a 409 conflict,
/// deletes cascade as documented, listings keep one order, and (in IdentityStoreContractTests+Grants) grants,
/// tokens, credentials, the catalog, durability and two instances on one database.
@Suite("IdentityStore contract")
struct IdentityStoreContractTests {
    static func conflict(_ what: String) -> GlimpseError { .conflict("Conflict occurred attempting to store \(what).") }

    /// A domain "d1" with project "p1", user "u1" and global role "r1".
    static func seeded(_ backend: IdentityBackend) async throws -> (
        store: any IdentityStore, reopen: @Sendable () async throws -> any IdentityStore
    ) {
        let made = try await backend.make()
        let store = made.store
        try await store.insertDomain(IdentityDomain(id: "d1", name: "One"))
        try await store.insertProject(IdentityProject(id: "p1", name: "proj", domainID: "d1"))
        try await store.insertUser(IdentityUser(id: "u1", name: "alice", domainID: "d1", passwordHash: "$hash"))
        try await store.insertRole(IdentityRole(id: "r1", name: "member"))
        return made
    }

    @Test(arguments: IdentityBackend.allCases)
    func domainsRoundTripAreUniqueAndListByName(_ backend: IdentityBackend) async throws {
        let store = try await backend.make().store
        let b = IdentityDomain(id: "db", name: "Beta", description: "second", enabled: false)
        try await store.insertDomain(IdentityDomain(id: "da", name: "alpha"))
        try await store.insertDomain(b)
        #expect(try await store.domain(id: "db") == b)
        #expect(try await store.domain(id: "nope") == nil)
        #expect(try await store.domains().map(\.name) == ["Beta", "alpha"], "bytewise order: upper case first")
        await #expect(throws: Self.conflict("domain")) { try await store.insertDomain(IdentityDomain(id: "db", name: "x")) }
        await #expect(throws: Self.conflict("domain")) { try await store.insertDomain(IdentityDomain(id: "dc", name: "alpha")) }
        var renamed = b
        renamed.name = "Gamma"
        renamed.enabled = true
        try await store.updateDomain(renamed)
        #expect(try await store.domain(id: "db") == renamed)
        renamed.name = "alpha"
        await #expect(throws: Self.conflict("domain")) { try await store.updateDomain(renamed) }
        #expect(try await store.domain(id: "db")?.name == "Gamma", "a refused update changes nothing")
        #expect(try await store.deleteDomain(id: "db"))
        #expect(try await store.deleteDomain(id: "db") == false)
        #expect(try await store.domains().map(\.id) == ["da"])
    }

    @Test(arguments: IdentityBackend.allCases)
    func projectsAreUniqueByNameWithinADomain(_ backend: IdentityBackend) async throws {
        let store = try await Self.seeded(backend).store
        try await store.insertDomain(IdentityDomain(id: "d2", name: "Two"))
        let twin = IdentityProject(id: "p2", name: "proj", domainID: "d2", description: "same name", enabled: false, extraJSON: #"{"k":1}"#)
        try await store.insertProject(twin)
        try await store.insertProject(IdentityProject(id: "p0", name: "Zed", domainID: "d1"))
        #expect(try await store.project(id: "p2") == twin)
        #expect(try await store.project(id: "missing") == nil)
        #expect(try await store.projects().map(\.id) == ["p0", "p1", "p2"], "by name, then id")
        await #expect(throws: Self.conflict("project")) {
            try await store.insertProject(IdentityProject(id: "p3", name: "proj", domainID: "d1"))
        }
        await #expect(throws: Self.conflict("project")) {
            try await store.insertProject(IdentityProject(id: "p1", name: "other", domainID: "d1"))
        }
        await #expect(throws: Self.conflict("project")) {
            try await store.insertProject(IdentityProject(id: "p4", name: "orphan", domainID: "no-such-domain"))
        }
        var updated = twin
        updated.name = "renamed"
        updated.enabled = true
        updated.extraJSON = "{}"
        try await store.updateProject(updated)
        #expect(try await store.project(id: "p2") == updated)
        updated.name = "Zed"
        updated.domainID = "d1"
        try await store.updateProject(updated)
        #expect(try await store.project(id: "p2")?.domainID == "d2", "an update never moves a project")
        #expect(try await store.deleteProject(id: "p2"))
        #expect(try await store.deleteProject(id: "p2") == false)
    }

    @Test(arguments: IdentityBackend.allCases)
    func usersAreFoundByNameInTheirDomainOnly(_ backend: IdentityBackend) async throws {
        let store = try await Self.seeded(backend).store
        try await store.insertDomain(IdentityDomain(id: "d2", name: "Two"))
        let bob = IdentityUser(
            id: "u2", name: "bob", domainID: "d2", enabled: false, defaultProjectID: "p1", passwordHash: nil,
            extraJSON: #"{"email":"b@example.org"}"#)
        try await store.insertUser(bob)
        #expect(try await store.user(id: "u2") == bob)
        #expect(try await store.user(name: "bob", domainID: "d2") == bob)
        #expect(try await store.user(name: "bob", domainID: "d1") == nil)
        #expect(try await store.user(name: "Bob", domainID: "d2") == nil, "names compare exactly")
        #expect(try await store.users().map(\.name) == ["alice", "bob"])
        await #expect(throws: Self.conflict("user")) {
            try await store.insertUser(IdentityUser(id: "u3", name: "alice", domainID: "d1", passwordHash: nil))
        }
        try await store.insertUser(IdentityUser(id: "u3", name: "alice", domainID: "d2", passwordHash: nil))
        var changed = bob
        changed.enabled = true
        changed.defaultProjectID = nil
        changed.passwordHash = "$new"
        try await store.updateUser(changed)
        #expect(try await store.user(id: "u2") == changed)
        changed.name = "alice"
        await #expect(throws: Self.conflict("user")) { try await store.updateUser(changed) }
        #expect(try await store.deleteUser(id: "u2"))
        #expect(try await store.deleteUser(id: "u2") == false)
        #expect(try await store.user(name: "bob", domainID: "d2") == nil)
    }

    @Test(arguments: IdentityBackend.allCases)
    func roleNamesAreUniquePerDomainAndDeletingARoleDropsItsGrants(_ backend: IdentityBackend) async throws {
        let store = try await Self.seeded(backend).store
        try await store.insertRole(IdentityRole(id: "r0", name: "admin", description: "all"))
        try await store.insertRole(IdentityRole(id: "rd", name: "member", domainID: "d1"))
        await #expect(throws: Self.conflict("role")) { try await store.insertRole(IdentityRole(id: "rx", name: "member")) }
        await #expect(throws: Self.conflict("role")) {
            try await store.insertRole(IdentityRole(id: "ry", name: "member", domainID: "d1"))
        }
        let roles = try await store.roles()
        #expect(roles.map(\.name) == ["admin", "member", "member"])
        #expect(roles.first { $0.id == "rd" }?.domainID == "d1")
        #expect(roles.first { $0.id == "r1" }?.domainID == nil)
        try await store.updateRole(IdentityRole(id: "r0", name: "boss", description: "renamed"))
        #expect(try await store.roles().first { $0.id == "r0" } == IdentityRole(id: "r0", name: "boss", description: "renamed"))
        await #expect(throws: Self.conflict("role")) { try await store.updateRole(IdentityRole(id: "r0", name: "member")) }

        try await store.insertImpliedRole(IdentityImpliedRole(priorRoleID: "r0", impliedRoleID: "r1"))
        try await store.insertImpliedRole(IdentityImpliedRole(priorRoleID: "r0", impliedRoleID: "r1"))
        try await store.insertImpliedRole(IdentityImpliedRole(priorRoleID: "rd", impliedRoleID: "r0"))
        #expect(Set(try await store.impliedRoles()).count == 2, "a rule inserted twice is kept once")
        #expect(try await store.deleteImpliedRole(IdentityImpliedRole(priorRoleID: "rd", impliedRoleID: "r0")))
        #expect(try await store.deleteImpliedRole(IdentityImpliedRole(priorRoleID: "rd", impliedRoleID: "r0")) == false)

        try await store.insertGroup(IdentityGroup(id: "g1", name: "team", domainID: "d1"))
        #expect(try await store.grant(IdentityRoleAssignment(userID: "u1", projectID: "p1", roleID: "r0")))
        #expect(try await store.grant(IdentityTargetAssignment(userID: "u1", target: .system, roleID: "r0")))
        #expect(try await store.grant(IdentityGroupAssignment(groupID: "g1", target: .domain("d1"), roleID: "r0")))
        #expect(try await store.deleteRole(id: "r0"))
        #expect(try await store.deleteRole(id: "r0") == false)
        #expect(try await store.impliedRoles().isEmpty)
        #expect(try await store.assignments(userID: nil, projectID: nil, roleID: nil).isEmpty)
        #expect(try await store.targetAssignments(userID: nil, target: nil, roleID: nil).isEmpty)
        #expect(try await store.groupAssignments(groupID: nil, target: nil, roleID: nil).isEmpty)
    }

    @Test(arguments: IdentityBackend.allCases)
    func deletingADomainTakesEverythingInItAndRevokesItsTokens(_ backend: IdentityBackend) async throws {
        let store = try await Self.seeded(backend).store
        try await store.insertDomain(IdentityDomain(id: "d2", name: "Two"))
        try await store.insertProject(IdentityProject(id: "p2", name: "kept", domainID: "d2"))
        try await store.insertUser(IdentityUser(id: "u2", name: "bob", domainID: "d2", passwordHash: nil))
        try await store.insertGroup(IdentityGroup(id: "g1", name: "team", domainID: "d1"))
        try await store.insertGroup(IdentityGroup(id: "g2", name: "team", domainID: "d2"))
        try await store.insertRole(IdentityRole(id: "rd", name: "local", domainID: "d1"))
        _ = try await store.grant(IdentityRoleAssignment(userID: "u2", projectID: "p1", roleID: "r1"))
        _ = try await store.grant(IdentityRoleAssignment(userID: "u2", projectID: "p2", roleID: "r1"))
        _ = try await store.grant(IdentityTargetAssignment(userID: "u2", target: .domain("d1"), roleID: "r1"))
        _ = try await store.grant(IdentityGroupAssignment(groupID: "g2", target: .project("p1"), roleID: "r1"))
        _ = try await store.grant(IdentityGroupAssignment(groupID: "g2", target: .domain("d1"), roleID: "r1"))
        _ = try await store.grant(IdentityGroupAssignment(groupID: "g2", target: .project("p2"), roleID: "r1"))
        let now = Timestamp(microseconds: 1_700_000_000_000_000)
        let later = Timestamp(microseconds: 1_800_000_000_000_000)
        let tokens = [
            IdentityTokenRecord(hash: "t-user", userID: "u1", projectID: nil, methods: ["password"], issuedAt: now, expiresAt: later, auditID: "a1"),
            IdentityTokenRecord(hash: "t-project", userID: "u2", projectID: "p1", methods: ["password"], issuedAt: now, expiresAt: later, auditID: "a2"),
            IdentityTokenRecord(hash: "t-domain", userID: "u2", projectID: nil, methods: ["password"], issuedAt: now, expiresAt: later, auditID: "a3", domainID: "d1"),
            IdentityTokenRecord(hash: "t-other", userID: "u2", projectID: "p2", methods: ["password"], issuedAt: now, expiresAt: later, auditID: "a4"),
        ]
        for t in tokens { try await store.insertToken(t) }

        #expect(try await store.deleteDomain(id: "d1"))
        #expect(try await store.domains().map(\.id) == ["d2"])
        #expect(try await store.projects().map(\.id) == ["p2"])
        #expect(try await store.users().map(\.id) == ["u2"])
        #expect(try await store.groups().map(\.id) == ["g2"])
        #expect(try await store.roles().map(\.id) == ["r1"])
        #expect(
            try await store.assignments(userID: nil, projectID: nil, roleID: nil)
                == [IdentityRoleAssignment(userID: "u2", projectID: "p2", roleID: "r1")])
        #expect(try await store.targetAssignments(userID: nil, target: nil, roleID: nil).isEmpty)
        #expect(
            try await store.groupAssignments(groupID: nil, target: nil, roleID: nil)
                == [IdentityGroupAssignment(groupID: "g2", target: .project("p2"), roleID: "r1")])
        var revoked: [String: Bool] = [:]
        for t in tokens { revoked[t.hash] = try await store.token(hash: t.hash)?.revoked }
        #expect(revoked == ["t-user": true, "t-project": true, "t-domain": true, "t-other": false])
    }
}
