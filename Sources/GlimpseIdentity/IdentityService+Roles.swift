import GlimpseCore
import GlimpseStorage

// Roles and role assignments: the catalogue of roles, grants on projects, domains and the system, and the
// `role_assignments` report.
extension IdentityService {
    /// Without a `domain_id` filter Keystone lists the global roles only; with one, that domain's roles.
    public func roles(by auth: AuthContext, name: String?, domainID: String? = nil) async throws -> [IdentityRole] {
        // Domain readers list roles too: they need them to grant roles in their domain.
        try IdentityPolicy.require(IdentityPolicy.readsRoles(auth), "list_roles")
        let roles = try await store.roles().filter { $0.domainID == domainID }
        guard let name else { return roles }
        return roles.filter { $0.name == name }
    }

    public func role(id: String, by auth: AuthContext) async throws -> IdentityRole {
        try IdentityPolicy.require(IdentityPolicy.readsRoles(auth), "get_role")
        guard let r = try await store.roles().first(where: { $0.id == id }) else { throw Self.notFound("role", id) }
        return r
    }

    public func createRole(_ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityRole {
        try IdentityPolicy.requireAdmin(auth, "create_role")
        guard let name = IdentityInput.string(body, "name"), !name.isEmpty, name.count <= 255 else {
            throw GlimpseError.badRequest("Invalid input for field 'name': 'name' is a required property.")
        }
        let domainID = IdentityInput.string(body, "domain_id")
        if let domainID, try await store.domain(id: domainID) == nil { throw Self.notFound("domain", domainID) }
        let r = IdentityRole(
            id: TokenCodec.newID(), name: name, description: IdentityInput.string(body, "description") ?? "", domainID: domainID)
        do {
            try await store.insertRole(r)
        } catch let e as GlimpseError where e.kind == .conflict {
            throw GlimpseError.conflict("Conflict occurred attempting to store role - Duplicate entry found with name \(name).")
        }
        return r
    }

    /// `PATCH /v3/roles/{id}`: name and description; a role keeps its domain.
    public func updateRole(id: String, _ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityRole {
        try IdentityPolicy.requireAdmin(auth, "update_role")
        guard var r = try await store.roles().first(where: { $0.id == id }) else { throw Self.notFound("role", id) }
        if body["domain_id"] != nil, IdentityInput.string(body, "domain_id") != r.domainID {
            throw GlimpseError.badRequest("Cannot change the domain_id of a role.")
        }
        if body["name"] != nil {
            guard let name = IdentityInput.string(body, "name"), !name.isEmpty, name.count <= 255 else {
                throw GlimpseError.badRequest("Invalid input for field 'name': a string of 1 to 255 characters.")
            }
            r.name = name
        }
        if let d = IdentityInput.string(body, "description") { r.description = d }
        do {
            try await store.updateRole(r)
        } catch let e as GlimpseError where e.kind == .conflict {
            throw GlimpseError.conflict("Conflict occurred attempting to store role - Duplicate entry found with name \(r.name).")
        }
        changed()
        return r
    }

    public func deleteRole(id: String, by auth: AuthContext) async throws {
        try IdentityPolicy.requireAdmin(auth, "delete_role")
        guard try await store.deleteRole(id: id) else { throw Self.notFound("role", id) }
        changed()
    }

    // MARK: grants

    static func noAssignment(_ roleID: String, _ userID: String, _ target: String) -> GlimpseError {
        .notFound("Could not find role assignment with role: \(roleID), user or group: \(userID), project, domain, or system: \(target).")
    }

    static func targetName(_ scope: RoleAssignment.Scope) -> String {
        switch scope {
        case .project(let id), .domain(let id): id
        case .system: "system"
        }
    }

    /// Checks that the scope and the user exist and that the caller may grant on that scope.
    func authorizeGrant(_ scope: RoleAssignment.Scope, userID: String, by auth: AuthContext, reading: Bool, _ action: String) async throws {
        let user = try await store.user(id: userID)
        switch scope {
        case .project(let pid):
            guard let project = try await store.project(id: pid) else { throw Self.notFound("project", pid) }
            // A domain admin grants roles on its domain's projects to its domain's users.
            let inDomain = user.map { $0.domainID == project.domainID } ?? true
            let allowed = reading
                ? IdentityPolicy.readsDomain(auth, project.domainID)
                : IdentityPolicy.isAdmin(auth) || (inDomain && IdentityPolicy.isDomainAdmin(auth, of: project.domainID))
            try IdentityPolicy.require(allowed, action)
        case .domain(let did):
            guard try await store.domain(id: did) != nil else { throw Self.notFound("domain", did) }
            try IdentityPolicy.require(reading ? IdentityPolicy.readsDomain(auth, did) : IdentityPolicy.isAdmin(auth), action)
        case .system:
            try IdentityPolicy.require(reading ? IdentityPolicy.isReader(auth) : IdentityPolicy.isAdmin(auth), action)
        }
        guard user != nil else { throw Self.notFound("user", userID) }
    }

    func requireRole(_ roleID: String) async throws {
        guard try await store.roles().contains(where: { $0.id == roleID }) else { throw Self.notFound("role", roleID) }
    }

    /// Keystone's policy names: `create_grant`, `list_grants`, `create_system_grant_for_user`, ...
    static func action(_ verb: String, _ scope: RoleAssignment.Scope) -> String {
        let noun: String
        switch scope {
        case .project, .domain: noun = verb == "list" ? "grants" : "grant"
        case .system: noun = verb == "list" ? "system_grants_for_user" : "system_grant_for_user"
        }
        return "\(verb)_\(noun)"
    }

    /// The role IDs the user has directly on the scope.
    func directRoleIDs(user: String, scope: RoleAssignment.Scope) async throws -> Set<String> {
        switch scope {
        case .project(let pid): try await directRoleIDs(user: user, project: pid)
        case .domain(let did): try await directRoleIDs(user: user, target: .domain(did))
        case .system: try await directRoleIDs(user: user, target: .system)
        }
    }

    public func grant(_ scope: RoleAssignment.Scope, userID: String, roleID: String, by auth: AuthContext) async throws {
        try await authorizeGrant(scope, userID: userID, by: auth, reading: false, Self.action("create", scope))
        try await requireRole(roleID)
        switch scope {
        case .project(let pid): _ = try await store.grant(IdentityRoleAssignment(userID: userID, projectID: pid, roleID: roleID))
        case .domain(let did): _ = try await store.grant(IdentityTargetAssignment(userID: userID, target: .domain(did), roleID: roleID))
        case .system: _ = try await store.grant(IdentityTargetAssignment(userID: userID, target: .system, roleID: roleID))
        }
        changed()
    }

    public func checkGrant(_ scope: RoleAssignment.Scope, userID: String, roleID: String, by auth: AuthContext) async throws {
        try await authorizeGrant(scope, userID: userID, by: auth, reading: true, Self.action("check", scope))
        try await requireRole(roleID)
        guard try await directRoleIDs(user: userID, scope: scope).contains(roleID) else {
            throw Self.noAssignment(roleID, userID, Self.targetName(scope))
        }
    }

    /// Removing a role on a project also deletes the user's application credentials there, as Keystone does;
    /// tokens that depended on the role stop validating at once.
    public func revokeGrant(_ scope: RoleAssignment.Scope, userID: String, roleID: String, by auth: AuthContext) async throws {
        try await authorizeGrant(scope, userID: userID, by: auth, reading: false, Self.action("revoke", scope))
        try await requireRole(roleID)
        let removed: Bool
        switch scope {
        case .project(let pid):
            removed = try await store.revoke(IdentityRoleAssignment(userID: userID, projectID: pid, roleID: roleID))
            if removed { try await store.deleteApplicationCredentials(userID: userID, projectID: pid) }
        case .domain(let did):
            removed = try await store.revoke(IdentityTargetAssignment(userID: userID, target: .domain(did), roleID: roleID))
        case .system:
            removed = try await store.revoke(IdentityTargetAssignment(userID: userID, target: .system, roleID: roleID))
        }
        guard removed else { throw Self.noAssignment(roleID, userID, Self.targetName(scope)) }
        changed()
    }

    public func grants(_ scope: RoleAssignment.Scope, userID: String, by auth: AuthContext) async throws -> [IdentityRole] {
        try await authorizeGrant(scope, userID: userID, by: auth, reading: true, Self.action("list", scope))
        let ids = try await directRoleIDs(user: userID, scope: scope)
        return try await store.roles().filter { ids.contains($0.id) }
    }

    // MARK: role_assignments

    /// The filters of `GET /v3/role_assignments`. Without a scope filter every kind of assignment is listed.
    public struct AssignmentQuery: Sendable {
        public var userID: String?
        /// `group.id`
        public var groupID: String?
        public var projectID: String?
        public var domainID: String?
        /// `scope.system=all`
        public var system: Bool
        public var roleID: String?
        /// Expand implied roles.
        public var effective: Bool
        public var includeNames: Bool

        public init(
            userID: String?, projectID: String?, domainID: String? = nil, system: Bool = false, roleID: String?,
            effective: Bool, includeNames: Bool, groupID: String? = nil
        ) {
            self.userID = userID
            self.groupID = groupID
            self.projectID = projectID
            self.domainID = domainID
            self.system = system
            self.roleID = roleID
            self.effective = effective
            self.includeNames = includeNames
        }

        var anyScope: Bool { projectID == nil && domainID == nil && !system }
    }

    /// The assignments that match, with the records needed to name them.
    public struct AssignmentReport: Sendable {
        public var assignments: [RoleAssignment]
        public var roles: [String: IdentityRole]
        /// Filled only when names were asked for.
        public var users: [String: IdentityUser]
        public var projects: [String: IdentityProject]
        public var domains: [String: IdentityDomain]
        public var groups: [String: IdentityGroup] = [:]
    }

    /// Readers list everything; anyone may list their own assignments (`user.id` = themselves).
    public func roleAssignments(_ q: AssignmentQuery, by auth: AuthContext) async throws -> AssignmentReport {
        try IdentityPolicy.require(
            IdentityPolicy.isReader(auth) || (q.userID != nil && q.userID == auth.user.id)
                || q.domainID.map { IdentityPolicy.isDomainReader(auth, of: $0) } ?? false,
            "list_role_assignments")
        let roleFilter = q.effective ? nil : q.roleID
        // A group filter lists that group's grants only; a user filter lists the user's own grants and, effective,
        // those it holds through its groups.
        var list: [RoleAssignment] = q.groupID == nil ? try await userAssignments(q, roleFilter: roleFilter) : []
        let groupIDs: [String]?
        if let g = q.groupID {
            groupIDs = [g]
        } else if let u = q.userID {
            groupIDs = q.effective ? try await store.groupIDs(userID: u) : []
        } else {
            groupIDs = nil
        }
        list += try await groupAssignments(q, groupIDs: groupIDs, roleFilter: roleFilter)
        if q.effective {
            var expanded: [RoleAssignment] = []
            var seen = Set<RoleAssignment>()
            for a in list {
                for member in try await members(of: a, onlyUser: q.userID) {
                    for r in try await effectiveRoles(of: [a.roleID]) {
                        let e = RoleAssignment(userID: member.user, roleID: r.id, scope: a.scope, viaGroupID: member.group)
                        if seen.insert(e).inserted { expanded.append(e) }
                    }
                }
            }
            list = expanded
            if let roleID = q.roleID { list = list.filter { $0.roleID == roleID } }
        }
        var report = AssignmentReport(
            assignments: list, roles: Dictionary(uniqueKeysWithValues: try await store.roles().map { ($0.id, $0) }),
            users: [:], projects: [:], domains: [:])
        if q.includeNames {
            for u in try await store.users() { report.users[u.id] = u }
            for p in try await store.projects() { report.projects[p.id] = p }
            for d in try await store.domains() { report.domains[d.id] = d }
            for g in try await store.groups() { report.groups[g.id] = g }
        }
        return report
    }

    /// The users' own grants that match the query's scope filters.
    func userAssignments(_ q: AssignmentQuery, roleFilter: String?) async throws -> [RoleAssignment] {
        var list: [RoleAssignment] = []
        if q.anyScope || q.projectID != nil {
            list += try await store.assignments(userID: q.userID, projectID: q.projectID, roleID: roleFilter).map {
                RoleAssignment(userID: $0.userID, roleID: $0.roleID, scope: .project($0.projectID))
            }
        }
        if q.anyScope || q.domainID != nil {
            let target = q.domainID.map { IdentityTargetAssignment.Target.domain($0) }
            for a in try await store.targetAssignments(userID: q.userID, target: target, roleID: roleFilter) {
                if case .domain(let did) = a.target { list.append(RoleAssignment(userID: a.userID, roleID: a.roleID, scope: .domain(did))) }
            }
        }
        if q.anyScope || q.system {
            list += try await store.targetAssignments(userID: q.userID, target: .system, roleID: roleFilter).map {
                RoleAssignment(userID: $0.userID, roleID: $0.roleID, scope: .system)
            }
        }
        return list
    }

    /// The grants to groups (all of them when `groupIDs` is nil) that match the query's scope filters.
    func groupAssignments(_ q: AssignmentQuery, groupIDs: [String]?, roleFilter: String?) async throws -> [RoleAssignment] {
        var targets: [IdentityGroupAssignment.Target?] = []
        if let p = q.projectID { targets.append(.project(p)) }
        if let d = q.domainID { targets.append(.domain(d)) }
        if q.system { targets.append(.system) }
        if q.anyScope { targets.append(nil) }
        let groups: [String?] = groupIDs.map { $0.map { Optional($0) } } ?? [nil]
        var list: [RoleAssignment] = []
        for g in groups {
            for t in targets {
                for a in try await store.groupAssignments(groupID: g, target: t, roleID: roleFilter) {
                    switch a.target {
                    case .project(let pid): list.append(RoleAssignment(groupID: a.groupID, roleID: a.roleID, scope: .project(pid)))
                    case .domain(let did): list.append(RoleAssignment(groupID: a.groupID, roleID: a.roleID, scope: .domain(did)))
                    case .system: list.append(RoleAssignment(groupID: a.groupID, roleID: a.roleID, scope: .system))
                    }
                }
            }
        }
        return list
    }

    /// Who holds an assignment in an effective listing: its user, or each member of its group (the one user when
    /// the listing is filtered by user).
    func members(of a: RoleAssignment, onlyUser: String?) async throws -> [(user: String, group: String?)] {
        switch a.actor {
        case .user(let u): return [(u, nil)]
        case .group(let g):
            return try await store.memberIDs(groupID: g).filter { onlyUser == nil || $0 == onlyUser }.map { ($0, g) }
        }
    }
}
