import GlimpseCore
import GlimpseStorage

// Roles and role assignments: the catalogue of roles, grants on projects and the `role_assignments` report.
extension IdentityService {
    public func roles(by auth: AuthContext, name: String?) async throws -> [IdentityRole] {
        try IdentityPolicy.requireReader(auth, "list_roles")
        let roles = try await store.roles()
        guard let name else { return roles }
        return roles.filter { $0.name == name }
    }

    public func role(id: String, by auth: AuthContext) async throws -> IdentityRole {
        try IdentityPolicy.requireReader(auth, "get_role")
        guard let r = try await store.roles().first(where: { $0.id == id }) else { throw Self.notFound("role", id) }
        return r
    }

    public func createRole(_ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityRole {
        try IdentityPolicy.requireAdmin(auth, "create_role")
        guard let name = IdentityInput.string(body, "name"), !name.isEmpty, name.count <= 255 else {
            throw GlimpseError.badRequest("Invalid input for field 'name': 'name' is a required property.")
        }
        let r = IdentityRole(id: TokenCodec.newID(), name: name, description: IdentityInput.string(body, "description") ?? "")
        do {
            try await store.insertRole(r)
        } catch let e as GlimpseError where e.kind == .conflict {
            throw GlimpseError.conflict("Conflict occurred attempting to store role - Duplicate entry found with name \(name).")
        }
        return r
    }

    public func deleteRole(id: String, by auth: AuthContext) async throws {
        try IdentityPolicy.requireAdmin(auth, "delete_role")
        guard try await store.deleteRole(id: id) else { throw Self.notFound("role", id) }
        changed()
    }

    // MARK: grants on projects

    /// The assignment named by a grant URL, after checking that its project, user and role exist.
    func existingGrant(projectID: String, userID: String, roleID: String) async throws -> IdentityRoleAssignment {
        guard try await store.project(id: projectID) != nil else { throw Self.notFound("project", projectID) }
        guard try await store.user(id: userID) != nil else { throw Self.notFound("user", userID) }
        guard try await store.roles().contains(where: { $0.id == roleID }) else { throw Self.notFound("role", roleID) }
        return IdentityRoleAssignment(userID: userID, projectID: projectID, roleID: roleID)
    }

    static func noAssignment(_ roleID: String, _ userID: String, _ target: String) -> GlimpseError {
        .notFound("Could not find role assignment with role: \(roleID), user or group: \(userID), project, domain, or system: \(target).")
    }

    public func grant(projectID: String, userID: String, roleID: String, by auth: AuthContext) async throws {
        try IdentityPolicy.requireAdmin(auth, "create_grant")
        _ = try await store.grant(try await existingGrant(projectID: projectID, userID: userID, roleID: roleID))
        changed()
    }

    public func checkGrant(projectID: String, userID: String, roleID: String, by auth: AuthContext) async throws {
        try IdentityPolicy.requireReader(auth, "check_grant")
        let a = try await existingGrant(projectID: projectID, userID: userID, roleID: roleID)
        guard try await !store.assignments(userID: a.userID, projectID: a.projectID, roleID: a.roleID).isEmpty else {
            throw Self.noAssignment(roleID, userID, projectID)
        }
    }

    public func revokeGrant(projectID: String, userID: String, roleID: String, by auth: AuthContext) async throws {
        try IdentityPolicy.requireAdmin(auth, "revoke_grant")
        let a = try await existingGrant(projectID: projectID, userID: userID, roleID: roleID)
        guard try await store.revoke(a) else { throw Self.noAssignment(roleID, userID, projectID) }
        changed()
    }

    public func grants(projectID: String, userID: String, by auth: AuthContext) async throws -> [IdentityRole] {
        try IdentityPolicy.requireReader(auth, "list_grants")
        let ids = Set(try await store.assignments(userID: userID, projectID: projectID, roleID: nil).map(\.roleID))
        return try await store.roles().filter { ids.contains($0.id) }
    }

    // MARK: role_assignments

    /// The filters of `GET /v3/role_assignments`.
    public struct AssignmentQuery: Sendable {
        public var userID: String?
        public var projectID: String?
        public var roleID: String?
        /// Expand implied roles.
        public var effective: Bool
        public var includeNames: Bool

        public init(userID: String?, projectID: String?, roleID: String?, effective: Bool, includeNames: Bool) {
            self.userID = userID
            self.projectID = projectID
            self.roleID = roleID
            self.effective = effective
            self.includeNames = includeNames
        }
    }

    /// The assignments that match, with the records needed to name them.
    public struct AssignmentReport: Sendable {
        public var assignments: [IdentityRoleAssignment]
        public var roles: [String: IdentityRole]
        /// Filled only when names were asked for.
        public var users: [String: IdentityUser]
        public var projects: [String: IdentityProject]
        public var domains: [String: IdentityDomain]
    }

    /// Readers list everything; anyone may list their own assignments (`user.id` = themselves).
    public func roleAssignments(_ q: AssignmentQuery, by auth: AuthContext) async throws -> AssignmentReport {
        try IdentityPolicy.require(
            IdentityPolicy.isReader(auth) || (q.userID != nil && q.userID == auth.user.id), "list_role_assignments")
        var list = try await store.assignments(userID: q.userID, projectID: q.projectID, roleID: q.effective ? nil : q.roleID)
        if q.effective {
            var expanded: [IdentityRoleAssignment] = []
            var seen = Set<IdentityRoleAssignment>()
            for a in list {
                for r in try await effectiveRoles(of: [a.roleID]) {
                    let e = IdentityRoleAssignment(userID: a.userID, projectID: a.projectID, roleID: r.id)
                    if seen.insert(e).inserted { expanded.append(e) }
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
        }
        return report
    }
}
