import GlimpseCore
import GlimpseStorage

// Groups: CRUD, membership, and role grants to groups on projects and domains. A member holds its groups' roles
// in its tokens, so every change here clears the token cache.
extension IdentityService {
    static let groupFields: Set<String> = ["id", "name", "domain_id", "description", "links"]

    func requireGroup(_ id: String) async throws -> IdentityGroup {
        guard let g = try await store.group(id: id) else { throw Self.notFound("group", id) }
        return g
    }

    static func groupName(_ body: [String: JSONValue]) throws -> String {
        guard let name = IdentityInput.string(body, "name"), !name.isEmpty, name.count <= 64 else {
            throw GlimpseError.badRequest("Invalid input for field 'name': 'name' is a required string of 1 to 64 characters.")
        }
        return name
    }

    static func groupConflict(_ name: String, _ domainID: String) -> GlimpseError {
        .conflict("Conflict occurred attempting to store group - Duplicate entry found with name \(name) at domain ID \(domainID).")
    }

    public func groups(by auth: AuthContext, name: String?, domainID: String?) async throws -> [IdentityGroup] {
        let scope = try IdentityPolicy.listingDomain(auth, filter: domainID, "list_groups")
        var groups = try await store.groups()
        if let scope { groups = groups.filter { $0.domainID == scope } }
        if let name { groups = groups.filter { $0.name == name } }
        if let domainID { groups = groups.filter { $0.domainID == domainID } }
        return groups
    }

    public func group(id: String, by auth: AuthContext) async throws -> IdentityGroup {
        let g = try await requireGroup(id)
        try IdentityPolicy.require(IdentityPolicy.readsDomain(auth, g.domainID), "get_group")
        return g
    }

    public func createGroup(_ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityGroup {
        try IdentityPolicy.requireManager(auth, "create_group")
        let name = try Self.groupName(body)
        let domainID = IdentityInput.string(body, "domain_id") ?? auth.domain?.id ?? Self.defaultDomainID
        try IdentityPolicy.require(IdentityPolicy.managesDomain(auth, domainID), "create_group")
        guard try await store.domain(id: domainID) != nil else { throw Self.notFound("domain", domainID) }
        let g = IdentityGroup(
            id: TokenCodec.newID(), name: name, domainID: domainID, description: IdentityInput.string(body, "description") ?? "",
            extraJSON: IdentityJSON.encode(body.filter { !Self.groupFields.contains($0.key) }))
        do {
            try await store.insertGroup(g)
        } catch let e as GlimpseError where e.kind == .conflict {
            throw Self.groupConflict(name, domainID)
        }
        return g
    }

    public func updateGroup(id: String, _ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityGroup {
        try IdentityPolicy.requireManager(auth, "update_group")
        var g = try await requireGroup(id)
        try IdentityPolicy.require(IdentityPolicy.managesDomain(auth, g.domainID), "update_group")
        if let d = IdentityInput.string(body, "domain_id"), d != g.domainID {
            throw GlimpseError.badRequest("Cannot change the domain_id of a group.")
        }
        if body["name"] != nil { g.name = try Self.groupName(body) }
        if let d = IdentityInput.string(body, "description") { g.description = d }
        var extra = IdentityJSON.extras(g.extraJSON)
        for (k, v) in body where !Self.groupFields.contains(k) { extra[k] = v }
        g.extraJSON = IdentityJSON.encode(extra)
        do {
            try await store.updateGroup(g)
        } catch let e as GlimpseError where e.kind == .conflict {
            throw Self.groupConflict(g.name, g.domainID)
        }
        return g
    }

    public func deleteGroup(id: String, by auth: AuthContext) async throws {
        try IdentityPolicy.requireManager(auth, "delete_group")
        let g = try await requireGroup(id)
        try IdentityPolicy.require(IdentityPolicy.managesDomain(auth, g.domainID), "delete_group")
        guard try await store.deleteGroup(id: id) else { throw Self.notFound("group", id) }
        changed()
    }

    // MARK: membership

    /// The group and user must both exist; the caller must manage (or, reading, read) the group's domain.
    func authorizeMembership(groupID: String, userID: String, by auth: AuthContext, reading: Bool, _ action: String) async throws {
        let g = try await requireGroup(groupID)
        let allowed = reading ? IdentityPolicy.readsDomain(auth, g.domainID) : IdentityPolicy.managesDomain(auth, g.domainID)
        try IdentityPolicy.require(allowed, action)
        guard try await store.user(id: userID) != nil else { throw Self.notFound("user", userID) }
    }

    public func addMember(groupID: String, userID: String, by auth: AuthContext) async throws {
        try await authorizeMembership(groupID: groupID, userID: userID, by: auth, reading: false, "add_user_to_group")
        _ = try await store.addMember(groupID: groupID, userID: userID)
        changed()
    }

    public func checkMember(groupID: String, userID: String, by auth: AuthContext) async throws {
        try await authorizeMembership(groupID: groupID, userID: userID, by: auth, reading: true, "check_user_in_group")
        guard try await store.memberIDs(groupID: groupID).contains(userID) else {
            throw GlimpseError.notFound("User \(userID) is not a member of group \(groupID).")
        }
    }

    public func removeMember(groupID: String, userID: String, by auth: AuthContext) async throws {
        try await authorizeMembership(groupID: groupID, userID: userID, by: auth, reading: false, "remove_user_from_group")
        guard try await store.removeMember(groupID: groupID, userID: userID) else {
            throw GlimpseError.notFound("User \(userID) is not a member of group \(groupID).")
        }
        changed()
    }

    public func members(groupID: String, by auth: AuthContext) async throws -> [IdentityUser] {
        let g = try await requireGroup(groupID)
        try IdentityPolicy.require(IdentityPolicy.readsDomain(auth, g.domainID), "list_users_in_group")
        let ids = Set(try await store.memberIDs(groupID: groupID))
        return try await store.users().filter { ids.contains($0.id) }
    }

    /// `GET /v3/users/{id}/groups`: readers of the user's domain, or the user itself.
    public func groups(ofUser userID: String, by auth: AuthContext) async throws -> [IdentityGroup] {
        guard let u = try await store.user(id: userID) else { throw Self.notFound("user", userID) }
        try IdentityPolicy.require(IdentityPolicy.readsDomain(auth, u.domainID) || auth.user.id == userID, "list_groups_for_user")
        let ids = Set(try await store.groupIDs(userID: userID))
        return try await store.groups().filter { ids.contains($0.id) }
    }

    // MARK: group grants

    /// The roles the user holds through its groups on the target.
    func groupRoleIDs(user: String, target: IdentityGroupAssignment.Target) async throws -> Set<String> {
        var ids = Set<String>()
        for g in try await store.groupIDs(userID: user) {
            for a in try await store.groupAssignments(groupID: g, target: target, roleID: nil) { ids.insert(a.roleID) }
        }
        return ids
    }

    static func groupTarget(_ scope: RoleAssignment.Scope) -> IdentityGroupAssignment.Target {
        switch scope {
        case .project(let id): .project(id)
        case .domain(let id): .domain(id)
        case .system: .system
        }
    }

    /// The target and the group must exist; admins grant anywhere, domain admins within their domain, system
    /// readers read system grants.
    func authorizeGroupGrant(
        _ scope: RoleAssignment.Scope, groupID: String, by auth: AuthContext, reading: Bool, _ action: String
    ) async throws -> IdentityGroupAssignment.Target {
        let target = Self.groupTarget(scope)
        let domainID: String
        switch target {
        case .system:
            _ = try await requireGroup(groupID)
            try IdentityPolicy.require(reading ? IdentityPolicy.isReader(auth) : IdentityPolicy.isAdmin(auth), action)
            return target
        case .project(let pid):
            guard let p = try await store.project(id: pid) else { throw Self.notFound("project", pid) }
            domainID = p.domainID
        case .domain(let did):
            guard try await store.domain(id: did) != nil else { throw Self.notFound("domain", did) }
            domainID = did
        }
        let g = try await requireGroup(groupID)
        let allowed = reading
            ? IdentityPolicy.readsDomain(auth, domainID)
            : IdentityPolicy.isAdmin(auth) || (g.domainID == domainID && IdentityPolicy.isDomainAdmin(auth, of: domainID))
        try IdentityPolicy.require(allowed, action)
        return target
    }

    public func grant(_ scope: RoleAssignment.Scope, groupID: String, roleID: String, by auth: AuthContext) async throws {
        let target = try await authorizeGroupGrant(scope, groupID: groupID, by: auth, reading: false, "create_grant")
        try await requireRole(roleID)
        _ = try await store.grant(IdentityGroupAssignment(groupID: groupID, target: target, roleID: roleID))
        changed()
    }

    public func checkGrant(_ scope: RoleAssignment.Scope, groupID: String, roleID: String, by auth: AuthContext) async throws {
        let target = try await authorizeGroupGrant(scope, groupID: groupID, by: auth, reading: true, "check_grant")
        try await requireRole(roleID)
        guard try await !store.groupAssignments(groupID: groupID, target: target, roleID: roleID).isEmpty else {
            throw Self.noAssignment(roleID, groupID, Self.targetName(scope))
        }
    }

    public func revokeGrant(_ scope: RoleAssignment.Scope, groupID: String, roleID: String, by auth: AuthContext) async throws {
        let target = try await authorizeGroupGrant(scope, groupID: groupID, by: auth, reading: false, "revoke_grant")
        try await requireRole(roleID)
        guard try await store.revoke(IdentityGroupAssignment(groupID: groupID, target: target, roleID: roleID)) else {
            throw Self.noAssignment(roleID, groupID, Self.targetName(scope))
        }
        changed()
    }

    public func grants(_ scope: RoleAssignment.Scope, groupID: String, by auth: AuthContext) async throws -> [IdentityRole] {
        let target = try await authorizeGroupGrant(scope, groupID: groupID, by: auth, reading: true, "list_grants")
        let ids = Set(try await store.groupAssignments(groupID: groupID, target: target, roleID: nil).map(\.roleID))
        return try await store.roles().filter { ids.contains($0.id) }
    }
}
