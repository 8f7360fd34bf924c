import Foundation
import GlimpseCore
import GlimpseStorage
import Testing

// The identity contract, continued: grants (projects, domains, the system, groups), tokens, application
// credentials, credentials, the catalog, durability across reopen, and two instances on one database.
extension IdentityStoreContractTests {
    @Test(arguments: IdentityBackend.allCases)
    func projectGrantsFilterOrderAndGoWithTheirUserOrProject(_ backend: IdentityBackend) async throws {
        let store = try await Self.seeded(backend).store
        try await store.insertProject(IdentityProject(id: "p0", name: "zero", domainID: "d1"))
        try await store.insertUser(IdentityUser(id: "u0", name: "zoe", domainID: "d1", passwordHash: nil))
        try await store.insertRole(IdentityRole(id: "r2", name: "reader"))
        let a = IdentityRoleAssignment(userID: "u1", projectID: "p1", roleID: "r1")
        #expect(try await store.grant(a))
        #expect(try await store.grant(a) == false, "a second grant reports it existed")
        for (u, p, r) in [("u1", "p1", "r2"), ("u0", "p1", "r1"), ("u1", "p0", "r1")] {
            _ = try await store.grant(IdentityRoleAssignment(userID: u, projectID: p, roleID: r))
        }
        let all = try await store.assignments(userID: nil, projectID: nil, roleID: nil)
        #expect(all.map { "\($0.projectID)/\($0.userID)/\($0.roleID)" } == ["p0/u1/r1", "p1/u0/r1", "p1/u1/r1", "p1/u1/r2"])
        #expect(try await store.assignments(userID: "u1", projectID: "p1", roleID: nil).map(\.roleID) == ["r1", "r2"])
        #expect(try await store.assignments(userID: nil, projectID: nil, roleID: "r2").count == 1)
        #expect(try await store.assignments(userID: "u1", projectID: "p1", roleID: "r1") == [a])
        #expect(try await store.revoke(a))
        #expect(try await store.revoke(a) == false)
        #expect(try await store.deleteUser(id: "u0"))
        #expect(try await store.assignments(userID: nil, projectID: "p1", roleID: nil).map(\.userID) == ["u1"])
        #expect(try await store.deleteProject(id: "p0"))
        #expect(try await store.assignments(userID: "u1", projectID: nil, roleID: nil).map(\.projectID) == ["p1"])
    }

    @Test(arguments: IdentityBackend.allCases)
    func domainAndSystemGrantsAreKeptApart(_ backend: IdentityBackend) async throws {
        let store = try await Self.seeded(backend).store
        let onSystem = IdentityTargetAssignment(userID: "u1", target: .system, roleID: "r1")
        let onDomain = IdentityTargetAssignment(userID: "u1", target: .domain("d1"), roleID: "r1")
        #expect(try await store.grant(onSystem))
        #expect(try await store.grant(onSystem) == false)
        #expect(try await store.grant(onDomain))
        #expect(try await store.targetAssignments(userID: "u1", target: nil, roleID: nil) == [onDomain, onSystem])
        #expect(try await store.targetAssignments(userID: nil, target: .system, roleID: nil) == [onSystem])
        #expect(try await store.targetAssignments(userID: nil, target: .domain("d1"), roleID: "r1") == [onDomain])
        #expect(try await store.targetAssignments(userID: nil, target: .domain("d2"), roleID: nil).isEmpty)
        #expect(try await store.assignments(userID: "u1", projectID: nil, roleID: nil).isEmpty, "not project grants")
        #expect(try await store.revoke(onSystem))
        #expect(try await store.revoke(onSystem) == false)
        #expect(try await store.deleteUser(id: "u1"))
        #expect(try await store.targetAssignments(userID: nil, target: nil, roleID: nil).isEmpty)
    }

    @Test(arguments: IdentityBackend.allCases)
    func groupsMembersAndGroupGrants(_ backend: IdentityBackend) async throws {
        let store = try await Self.seeded(backend).store
        try await store.insertUser(IdentityUser(id: "u0", name: "zoe", domainID: "d1", passwordHash: nil))
        let team = IdentityGroup(id: "g2", name: "team", domainID: "d1", description: "the team", extraJSON: #"{"x":true}"#)
        try await store.insertGroup(team)
        try await store.insertGroup(IdentityGroup(id: "g1", name: "Ops", domainID: "d1"))
        #expect(try await store.group(id: "g2") == team)
        #expect(try await store.group(id: "none") == nil)
        #expect(try await store.groups().map(\.name) == ["Ops", "team"])
        await #expect(throws: Self.conflict("group")) {
            try await store.insertGroup(IdentityGroup(id: "g3", name: "team", domainID: "d1"))
        }
        var renamed = team
        renamed.name = "crew"
        renamed.description = ""
        try await store.updateGroup(renamed)
        #expect(try await store.group(id: "g2") == renamed)

        #expect(try await store.addMember(groupID: "g2", userID: "u1"))
        #expect(try await store.addMember(groupID: "g2", userID: "u1") == false)
        #expect(try await store.addMember(groupID: "g2", userID: "u0"))
        #expect(try await store.addMember(groupID: "g1", userID: "u1"))
        #expect(try await store.memberIDs(groupID: "g2") == ["u0", "u1"])
        #expect(try await store.groupIDs(userID: "u1") == ["g1", "g2"])
        #expect(try await store.removeMember(groupID: "g1", userID: "u1"))
        #expect(try await store.removeMember(groupID: "g1", userID: "u1") == false)

        let grants = [
            IdentityGroupAssignment(groupID: "g2", target: .system, roleID: "r1"),
            IdentityGroupAssignment(groupID: "g2", target: .project("p1"), roleID: "r1"),
            IdentityGroupAssignment(groupID: "g1", target: .domain("d1"), roleID: "r1"),
            IdentityGroupAssignment(groupID: "g2", target: .domain("d1"), roleID: "r1"),
        ]
        for g in grants { #expect(try await store.grant(g)) }
        #expect(try await store.grant(grants[0]) == false)
        #expect(
            try await store.groupAssignments(groupID: nil, target: nil, roleID: nil)
                == [grants[2], grants[3], grants[1], grants[0]], "by target type, target, group, role")
        #expect(try await store.groupAssignments(groupID: "g2", target: .domain("d1"), roleID: nil) == [grants[3]])
        #expect(try await store.groupAssignments(groupID: nil, target: .project("p1"), roleID: "r1") == [grants[1]])
        #expect(try await store.revoke(grants[0]))
        #expect(try await store.revoke(grants[0]) == false)
        #expect(try await store.deleteProject(id: "p1"))
        #expect(try await store.groupAssignments(groupID: nil, target: .project("p1"), roleID: nil).isEmpty)
        #expect(try await store.deleteUser(id: "u0"))
        #expect(try await store.memberIDs(groupID: "g2") == ["u1"])
        #expect(try await store.deleteGroup(id: "g2"))
        #expect(try await store.deleteGroup(id: "g2") == false)
        #expect(try await store.groupIDs(userID: "u1").isEmpty)
        #expect(try await store.groupAssignments(groupID: nil, target: nil, roleID: nil) == [grants[2]])
    }

    @Test(arguments: IdentityBackend.allCases)
    func tokensRoundTripRevokeAndPurge(_ backend: IdentityBackend) async throws {
        let store = try await Self.seeded(backend).store
        try await store.insertUser(IdentityUser(id: "u2", name: "bob", domainID: "d1", passwordHash: nil))
        let issued = Timestamp(microseconds: 1_700_000_000_000_000)
        let full = IdentityTokenRecord(
            hash: "h-full", userID: "u1", projectID: "p1", methods: ["password", "token"], issuedAt: issued,
            expiresAt: Timestamp(microseconds: 1_700_000_003_600_000), auditID: "audit-1", parentAuditID: "audit-0",
            system: false, domainID: nil, applicationCredentialID: "ac-1")
        let bare = IdentityTokenRecord(
            hash: "h-bare", userID: "u1", projectID: nil, methods: ["password"], issuedAt: issued,
            expiresAt: Timestamp(microseconds: 1_700_000_000_000_100), auditID: "audit-2", system: true)
        let other = IdentityTokenRecord(
            hash: "h-other", userID: "u2", projectID: nil, methods: ["password"], issuedAt: issued,
            expiresAt: Timestamp(microseconds: 1_800_000_000_000_000), auditID: "audit-3", domainID: "d1")
        for t in [full, bare, other] { try await store.insertToken(t) }
        #expect(try await store.token(hash: "h-full") == full)
        #expect(try await store.token(hash: "h-bare") == bare)
        #expect(try await store.token(hash: "h-other") == other)
        #expect(try await store.token(hash: "h-none") == nil)
        #expect(try await store.revokeToken(hash: "h-full"))
        #expect(try await store.revokeToken(hash: "h-full") == false, "already revoked")
        #expect(try await store.revokeToken(hash: "h-none") == false)
        #expect(try await store.token(hash: "h-full")?.revoked == true)
        try await store.revokeTokens(userID: "u1")
        #expect(try await store.token(hash: "h-bare")?.revoked == true)
        #expect(try await store.token(hash: "h-other")?.revoked == false, "another user's tokens stay")
        try await store.purgeTokens(expiredBefore: Timestamp(microseconds: 1_700_000_001_000_000))
        #expect(try await store.token(hash: "h-bare") == nil, "expired before the cutoff")
        #expect(try await store.token(hash: "h-full") != nil)
        #expect(try await store.deleteUser(id: "u2"))
        #expect(try await store.token(hash: "h-other")?.revoked == true, "deleting a user revokes its tokens")
    }

    @Test(arguments: IdentityBackend.allCases)
    func applicationCredentialsAreUniqueByNamePerUser(_ backend: IdentityBackend) async throws {
        let store = try await Self.seeded(backend).store
        try await store.insertUser(IdentityUser(id: "u2", name: "bob", domainID: "d1", passwordHash: nil))
        try await store.insertProject(IdentityProject(id: "p2", name: "two", domainID: "d1"))
        let scoped = IdentityApplicationCredential(
            id: "ac2", userID: "u1", name: "zeta", description: "ci", projectID: "p1", secretHash: "$s",
            expiresAt: Timestamp(microseconds: 1_900_000_000_000_000), unrestricted: true, roleIDs: ["r1", "r9"])
        let system = IdentityApplicationCredential(
            id: "ac1", userID: "u1", name: "alpha", projectID: nil, system: true, secretHash: "$t", roleIDs: [])
        try await store.insertApplicationCredential(scoped)
        try await store.insertApplicationCredential(system)
        try await store.insertApplicationCredential(
            IdentityApplicationCredential(id: "ac3", userID: "u2", name: "zeta", projectID: "p1", secretHash: "$u", roleIDs: ["r1"]))
        try await store.insertApplicationCredential(
            IdentityApplicationCredential(id: "ac4", userID: "u1", name: "beta", projectID: "p2", secretHash: "$v", roleIDs: ["r1"]))
        #expect(try await store.applicationCredential(id: "ac2") == scoped)
        #expect(try await store.applicationCredential(id: "ac1") == system)
        #expect(try await store.applicationCredential(userID: "u2", name: "zeta")?.id == "ac3")
        #expect(try await store.applicationCredential(userID: "u2", name: "alpha") == nil)
        #expect(try await store.applicationCredentials(userID: "u1").map(\.name) == ["alpha", "beta", "zeta"])
        await #expect(throws: Self.conflict("application credential")) {
            try await store.insertApplicationCredential(
                IdentityApplicationCredential(id: "ac5", userID: "u1", name: "zeta", projectID: "p1", secretHash: "$w", roleIDs: []))
        }
        try await store.deleteApplicationCredentials(userID: "u1", projectID: "p1")
        #expect(try await store.applicationCredentials(userID: "u1").map(\.id) == ["ac1", "ac4"])
        #expect(try await store.applicationCredential(id: "ac3") != nil, "another user's credential on the project stays")
        #expect(try await store.deleteProject(id: "p2"))
        #expect(try await store.applicationCredential(id: "ac4") == nil, "goes with its project")
        #expect(try await store.deleteApplicationCredential(id: "ac1"))
        #expect(try await store.deleteApplicationCredential(id: "ac1") == false)
        #expect(try await store.deleteUser(id: "u2"))
        #expect(try await store.applicationCredential(id: "ac3") == nil, "goes with its user")
    }

    @Test(arguments: IdentityBackend.allCases)
    func credentialsRoundTripAndGoWithTheirUserAndProject(_ backend: IdentityBackend) async throws {
        let store = try await Self.seeded(backend).store
        let ec2 = IdentityCredential(id: "c2", userID: "u1", projectID: "p1", type: "ec2", blob: #"{"access":"a"}"#)
        let cert = IdentityCredential(id: "c1", userID: "u1", projectID: nil, type: "cert", blob: "PEM")
        try await store.insertCredential(ec2)
        try await store.insertCredential(cert)
        #expect(try await store.credentials() == [cert, ec2])
        #expect(try await store.credential(id: "c2") == ec2)
        #expect(try await store.credential(id: "c9") == nil)
        await #expect(throws: Self.conflict("credential")) { try await store.insertCredential(ec2) }
        await #expect(throws: Self.conflict("credential")) {
            try await store.insertCredential(IdentityCredential(id: "c3", userID: "nobody", projectID: nil, type: "x", blob: ""))
        }
        var changed = cert
        changed.projectID = "p1"
        changed.blob = "PEM2"
        try await store.updateCredential(changed)
        #expect(try await store.credential(id: "c1") == changed)
        #expect(try await store.deleteCredential(id: "c1"))
        #expect(try await store.deleteCredential(id: "c1") == false)
        try await store.insertCredential(cert)
        #expect(try await store.deleteProject(id: "p1"))
        #expect(try await store.credentials() == [cert], "a project's credentials go with it")
        #expect(try await store.deleteUser(id: "u1"))
        #expect(try await store.credentials().isEmpty, "a user's credentials go with it")
    }

    @Test(arguments: IdentityBackend.allCases)
    func catalogRegionsServicesAndEndpoints(_ backend: IdentityBackend) async throws {
        let store = try await backend.make().store
        try await store.insertRegion(IdentityRegion(id: "RegionOne", description: "main"))
        try await store.insertRegion(IdentityRegion(id: "RegionOne-a", parentRegionID: "RegionOne"))
        await #expect(throws: Self.conflict("region")) { try await store.insertRegion(IdentityRegion(id: "RegionOne")) }
        await #expect(throws: Self.conflict("region")) {
            try await store.insertRegion(IdentityRegion(id: "R2", parentRegionID: "nowhere"))
        }
        try await store.updateRegion(IdentityRegion(id: "RegionOne-a", description: "zone a", parentRegionID: "RegionOne"))
        #expect(try await store.regions().map(\.id) == ["RegionOne", "RegionOne-a"])

        let image = IdentityCatalogService(id: "s2", type: "image", name: "glance", description: "images")
        try await store.insertCatalogService(image)
        try await store.insertCatalogService(IdentityCatalogService(id: "s1", type: "identity", name: "keystone"))
        try await store.insertCatalogService(IdentityCatalogService(id: "s0", type: "image", name: "other", enabled: false))
        #expect(try await store.catalogServices().map(\.id) == ["s1", "s0", "s2"], "by type, then id")
        var renamed = image
        renamed.name = "glimpse"
        try await store.updateCatalogService(renamed)
        #expect(try await store.catalogServices().first { $0.id == "s2" } == renamed)

        let endpoints = [
            IdentityEndpoint(id: "e2", serviceID: "s2", interface: "public", url: "http://a/image", regionID: "RegionOne-a"),
            IdentityEndpoint(id: "e1", serviceID: "s2", interface: "internal", url: "http://b/image", regionID: "RegionOne"),
            IdentityEndpoint(id: "e3", serviceID: "s1", interface: "public", url: "http://a/identity", regionID: nil, enabled: false),
        ]
        for e in endpoints { try await store.insertEndpoint(e) }
        await #expect(throws: Self.conflict("endpoint")) {
            try await store.insertEndpoint(IdentityEndpoint(id: "e4", serviceID: "none", interface: "public", url: "x", regionID: nil))
        }
        #expect(try await store.endpoints() == [endpoints[2], endpoints[1], endpoints[0]], "by service, interface, id")
        var moved = endpoints[2]
        moved.url = "http://c/identity"
        moved.enabled = true
        try await store.updateEndpoint(moved)
        #expect(try await store.endpoints().first == moved)

        #expect(try await store.deleteRegion(id: "RegionOne"))
        #expect(try await store.deleteRegion(id: "RegionOne") == false)
        #expect(try await store.regions() == [IdentityRegion(id: "RegionOne-a", description: "zone a")], "a child outlives its parent")
        #expect(try await store.endpoints().first { $0.id == "e1" }?.regionID == nil, "an endpoint outlives its region")
        #expect(try await store.deleteCatalogService(id: "s2"))
        #expect(try await store.deleteCatalogService(id: "s2") == false)
        #expect(try await store.endpoints().map(\.id) == ["e3"], "a service's endpoints go with it")
        #expect(try await store.deleteEndpoint(id: "e3"))
        #expect(try await store.deleteEndpoint(id: "e3") == false)
    }

    @Test(arguments: IdentityBackend.allCases)
    func everythingSurvivesAReopen(_ backend: IdentityBackend) async throws {
        let (store, reopen) = try await Self.seeded(backend)
        _ = try await store.grant(IdentityRoleAssignment(userID: "u1", projectID: "p1", roleID: "r1"))
        try await store.insertImpliedRole(IdentityImpliedRole(priorRoleID: "r1", impliedRoleID: "r1"))
        try await store.insertToken(IdentityTokenRecord(
            hash: "h", userID: "u1", projectID: "p1", methods: ["password"], issuedAt: Timestamp(microseconds: 1),
            expiresAt: Timestamp(microseconds: 2), auditID: "a"))
        try await store.insertRegion(IdentityRegion(id: "RegionOne"))
        let again = try await reopen()
        #expect(try await again.domains() == store.domains())
        #expect(try await again.projects() == store.projects())
        #expect(try await again.users() == store.users())
        #expect(try await again.roles() == store.roles())
        #expect(try await again.impliedRoles().count == 1)
        #expect(try await again.assignments(userID: nil, projectID: nil, roleID: nil).count == 1)
        #expect(try await again.token(hash: "h")?.auditID == "a")
        #expect(try await again.regions().map(\.id) == ["RegionOne"])
    }

    @Test(arguments: IdentityBackend.allCases)
    func twoInstancesOnOneDatabaseSeeEachOthersWritesAtOnce(_ backend: IdentityBackend) async throws {
        let (a, reopen) = try await Self.seeded(backend)
        let b = try await reopen()
        let token = IdentityTokenRecord(
            hash: "shared", userID: "u1", projectID: "p1", methods: ["password"], issuedAt: Timestamp(microseconds: 1),
            expiresAt: Timestamp(microseconds: 4_000_000_000_000_000), auditID: "a")
        try await a.insertToken(token)
        #expect(try await b.token(hash: "shared") == token)
        #expect(try await b.revokeToken(hash: "shared"))
        #expect(try await a.token(hash: "shared")?.revoked == true, "revoked through B, seen through A")
        #expect(try await a.revokeToken(hash: "shared") == false)

        var disabled = try #require(try await a.user(id: "u1"))
        disabled.enabled = false
        try await a.updateUser(disabled)
        #expect(try await b.user(id: "u1")?.enabled == false)

        // Both instances grant the same role and create the same name at once: one wins, the other is told.
        let assignment = IdentityRoleAssignment(userID: "u1", projectID: "p1", roleID: "r1")
        async let grantedByA = a.grant(assignment)
        async let grantedByB = b.grant(assignment)
        let granted = [try await grantedByA, try await grantedByB]
        #expect(granted.filter { $0 }.count == 1)
        async let insertedByA: Bool = Self.inserted { try await a.insertDomain(IdentityDomain(id: "x1", name: "Same")) }
        async let insertedByB: Bool = Self.inserted { try await b.insertDomain(IdentityDomain(id: "x2", name: "Same")) }
        let inserted = [try await insertedByA, try await insertedByB]
        #expect(inserted.filter { $0 }.count == 1)
        #expect(try await a.domains().filter { $0.name == "Same" }.count == 1)
    }

    @Test(arguments: IdentityBackend.allCases)
    func aDomainDeletedWhileAnotherInstanceAddsToItLeavesNothingBehind(_ backend: IdentityBackend) async throws {
        let (a, reopen) = try await backend.make()
        let b = try await reopen()
        for round in 0..<8 {
            let domain = "race-\(round)"
            try await a.insertDomain(IdentityDomain(id: domain, name: domain))
            async let deleted = a.deleteDomain(id: domain)
            async let added: Void = {
                do {
                    try await b.insertProject(IdentityProject(id: "p-\(domain)", name: "p", domainID: domain))
                    try await b.insertUser(IdentityUser(id: "u-\(domain)", name: "u", domainID: domain, passwordHash: nil))
                } catch let error as GlimpseError where error.kind == .conflict {
                    // The domain was gone first: refused, as it must be.
                }
            }()
            #expect(try await deleted)
            try await added
        }
        let domains = Set(try await a.domains().map(\.id))
        let orphanProjects = try await a.projects().filter { !domains.contains($0.domainID) }.map(\.id)
        let orphanUsers = try await a.users().filter { !domains.contains($0.domainID) }.map(\.id)
        #expect(orphanProjects.isEmpty)
        #expect(orphanUsers.isEmpty)
    }

    @Test(arguments: IdentityBackend.allCases)
    func aSharedStoreCountsEveryChangeButATokensIssue(_ backend: IdentityBackend) async throws {
        let (a, reopen) = try await Self.seeded(backend)
        let b = try await reopen()
        guard let start = try await a.changeVersion() else {
            #expect(backend == .sqlite, "only the embedded store belongs to one process")
            return
        }
        try await a.insertToken(IdentityTokenRecord(
            hash: "h", userID: "u1", projectID: nil, methods: ["password"], issuedAt: Timestamp(microseconds: 1),
            expiresAt: Timestamp(microseconds: 2), auditID: "a"))
        #expect(try await b.changeVersion() == start, "issuing a token invalidates nothing")
        _ = try await a.revokeToken(hash: "h")
        let afterRevoke = try #require(try await b.changeVersion())
        #expect(afterRevoke > start, "a revocation through A is seen through B")
        _ = try await b.grant(IdentityRoleAssignment(userID: "u1", projectID: "p1", roleID: "r1"))
        let afterGrant = try #require(try await a.changeVersion())
        #expect(afterGrant > afterRevoke)
    }

    /// True when `body` stored its record, false when it was refused as a conflict.
    static func inserted(_ body: @Sendable () async throws -> Void) async throws -> Bool {
        do {
            try await body()
            return true
        } catch let error as GlimpseError where error == conflict("domain") {
            return false
        }
    }
}
