import GlimpseCore
import GlimpseStorage

// Domains and projects: who may see and change them, defaults, and what a change invalidates.
extension IdentityService {
    static let projectFields: Set<String> = [
        "id", "name", "domain_id", "description", "enabled", "parent_id", "is_domain", "tags", "options", "links",
    ]

    // MARK: domains

    public func domains(by auth: AuthContext, name: String?, enabled: Bool?) async throws -> [IdentityDomain] {
        try IdentityPolicy.requireReader(auth, "list_domains")
        var domains = try await store.domains()
        if let name { domains = domains.filter { $0.name == name } }
        if let enabled { domains = domains.filter { $0.enabled == enabled } }
        return domains
    }

    public func domain(id: String, by auth: AuthContext) async throws -> IdentityDomain {
        try IdentityPolicy.require(
            IdentityPolicy.readsDomain(auth, id) || auth.project?.domainID == id || auth.user.domainID == id, "get_domain")
        guard let d = try await store.domain(id: id) else { throw Self.notFound("domain", id) }
        return d
    }

    /// Keystone limits domain names to 64 characters.
    static func domainName(_ body: [String: JSONValue]) throws -> String {
        guard let name = IdentityInput.string(body, "name"), !name.isEmpty, name.count <= 64 else {
            throw GlimpseError.badRequest("Invalid input for field 'name': 'name' is a required string of 1 to 64 characters.")
        }
        return name
    }

    static func domainConflict(_ name: String) -> GlimpseError {
        .conflict("Conflict occurred attempting to store domain - Duplicate entry found with name \(name).")
    }

    public func createDomain(_ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityDomain {
        try IdentityPolicy.requireAdmin(auth, "create_domain")
        let name = try Self.domainName(body)
        let d = IdentityDomain(
            id: TokenCodec.newID(), name: name, description: IdentityInput.string(body, "description") ?? "",
            enabled: try IdentityInput.bool(body, "enabled") ?? true)
        do {
            try await store.insertDomain(d)
        } catch let e as GlimpseError where e.kind == .conflict {
            throw Self.domainConflict(name)
        }
        return d
    }

    /// `PATCH /v3/domains/{id}`. Disabling a domain ends the tokens of its users and on its projects at once
    /// (validation checks the domain), as in Keystone.
    public func updateDomain(id: String, _ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityDomain {
        try IdentityPolicy.requireAdmin(auth, "update_domain")
        guard var d = try await store.domain(id: id) else { throw Self.notFound("domain", id) }
        if body["name"] != nil { d.name = try Self.domainName(body) }
        if let desc = IdentityInput.string(body, "description") { d.description = desc }
        if let e = try IdentityInput.bool(body, "enabled") {
            // The bootstrap admin and the service users live in the default domain.
            if !e, id == Self.defaultDomainID { throw GlimpseError.forbidden("The default domain cannot be disabled.") }
            d.enabled = e
        }
        do {
            try await store.updateDomain(d)
        } catch let e as GlimpseError where e.kind == .conflict {
            throw Self.domainConflict(d.name)
        }
        changed()
        return d
    }

    /// `DELETE /v3/domains/{id}`: only a disabled domain (403 otherwise, as in Keystone); everything in it goes.
    public func deleteDomain(id: String, by auth: AuthContext) async throws {
        try IdentityPolicy.requireAdmin(auth, "delete_domain")
        guard let d = try await store.domain(id: id) else { throw Self.notFound("domain", id) }
        guard !d.enabled else {
            throw GlimpseError.forbidden("Cannot delete a domain that is enabled, please disable it first.")
        }
        guard try await store.deleteDomain(id: id) else { throw Self.notFound("domain", id) }
        changed()
    }

    // MARK: projects

    public func projects(by auth: AuthContext, name: String?, domainID: String?, enabled: Bool?) async throws -> [IdentityProject] {
        let scope = try IdentityPolicy.listingDomain(auth, filter: domainID, "list_projects")
        var projects = try await store.projects()
        if let scope { projects = projects.filter { $0.domainID == scope } }
        if let name { projects = projects.filter { $0.name == name } }
        if let domainID { projects = projects.filter { $0.domainID == domainID } }
        if let enabled { projects = projects.filter { $0.enabled == enabled } }
        return projects
    }

    /// A project the caller administers, reads, is scoped to or has a role on.
    public func project(id: String, by auth: AuthContext) async throws -> IdentityProject {
        if !IdentityPolicy.isReader(auth), auth.project?.id != id, auth.domain == nil {
            guard try await !store.assignments(userID: auth.user.id, projectID: id, roleID: nil).isEmpty else {
                throw IdentityPolicy.forbidden("get_project")
            }
        }
        guard let p = try await store.project(id: id) else { throw Self.notFound("project", id) }
        if auth.domain != nil, !IdentityPolicy.isReader(auth) {
            try IdentityPolicy.require(IdentityPolicy.isDomainReader(auth, of: p.domainID), "get_project")
        }
        return p
    }

    public func createProject(_ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityProject {
        try IdentityPolicy.requireManager(auth, "create_project")
        guard let name = IdentityInput.string(body, "name"), !name.isEmpty, name.count <= 64 else {
            throw GlimpseError.badRequest("Invalid input for field 'name': 'name' is a required property of 1 to 64 characters.")
        }
        let domainID = IdentityInput.string(body, "domain_id") ?? IdentityInput.string(body, "parent_id") ?? Self.defaultDomainID
        try IdentityPolicy.require(IdentityPolicy.managesDomain(auth, domainID), "create_project")
        guard try await store.domain(id: domainID) != nil else { throw Self.notFound("domain", domainID) }
        let extra = body.filter { !Self.projectFields.contains($0.key) }
        let p = IdentityProject(
            id: TokenCodec.newID(), name: name, domainID: domainID,
            description: IdentityInput.string(body, "description") ?? "",
            enabled: try IdentityInput.bool(body, "enabled") ?? true, extraJSON: IdentityJSON.encode(extra))
        do {
            try await store.insertProject(p)
        } catch let e as GlimpseError where e.kind == .conflict {
            throw GlimpseError.conflict("Conflict occurred attempting to store project - Duplicate entry found with name \(name) at domain ID \(domainID).")
        }
        return p
    }

    public func updateProject(id: String, _ body: [String: JSONValue], by auth: AuthContext) async throws -> IdentityProject {
        try IdentityPolicy.requireManager(auth, "update_project")
        guard var p = try await store.project(id: id) else { throw Self.notFound("project", id) }
        try IdentityPolicy.require(IdentityPolicy.managesDomain(auth, p.domainID), "update_project")
        if let n = IdentityInput.string(body, "name") { p.name = n }
        if let d = IdentityInput.string(body, "description") { p.description = d }
        if let e = try IdentityInput.bool(body, "enabled") { p.enabled = e }
        var extra = IdentityJSON.extras(p.extraJSON)
        for (k, v) in body where !Self.projectFields.contains(k) { extra[k] = v }
        p.extraJSON = IdentityJSON.encode(extra)
        try await store.updateProject(p)
        changed()
        return p
    }

    public func deleteProject(id: String, by auth: AuthContext) async throws {
        try IdentityPolicy.requireManager(auth, "delete_project")
        guard let p = try await store.project(id: id) else { throw Self.notFound("project", id) }
        try IdentityPolicy.require(IdentityPolicy.managesDomain(auth, p.domainID), "delete_project")
        guard try await store.deleteProject(id: id) else { throw Self.notFound("project", id) }
        changed()
    }

    /// The projects on which `userID` has a role, directly or through a group.
    func projects(ofUser userID: String) async throws -> [IdentityProject] {
        var ids = Set(try await store.assignments(userID: userID, projectID: nil, roleID: nil).map(\.projectID))
        for g in try await store.groupIDs(userID: userID) {
            for a in try await store.groupAssignments(groupID: g, target: nil, roleID: nil) {
                if case .project(let pid) = a.target { ids.insert(pid) }
            }
        }
        return try await store.projects().filter { ids.contains($0.id) }
    }

    /// `GET /v3/users/{id}/projects`: the user itself or a reader.
    public func projects(ofUser userID: String, by auth: AuthContext) async throws -> [IdentityProject] {
        try IdentityPolicy.require(IdentityPolicy.isReader(auth) || auth.user.id == userID, "list_user_projects")
        guard try await store.user(id: userID) != nil else { throw Self.notFound("user", userID) }
        return try await projects(ofUser: userID)
    }

    /// `GET /v3/auth/domains`: the enabled domains on which the caller has a role.
    public func scopableDomains(_ auth: AuthContext) async throws -> [IdentityDomain] {
        var ids = Set<String>()
        for a in try await store.targetAssignments(userID: auth.user.id, target: nil, roleID: nil) {
            if case .domain(let id) = a.target { ids.insert(id) }
        }
        for g in try await store.groupIDs(userID: auth.user.id) {
            for a in try await store.groupAssignments(groupID: g, target: nil, roleID: nil) {
                if case .domain(let id) = a.target { ids.insert(id) }
            }
        }
        return try await store.domains().filter { ids.contains($0.id) && $0.enabled }
    }

    /// `GET /v3/auth/system`: whether the caller has a role on the system.
    public func canScopeToSystem(_ auth: AuthContext) async throws -> Bool {
        try await !heldRoleIDs(user: auth.user.id, target: .system).isEmpty
    }

    /// `GET /v3/auth/projects`: the enabled projects the caller can scope to.
    public func scopableProjects(_ auth: AuthContext) async throws -> [IdentityProject] {
        try await projects(ofUser: auth.user.id).filter(\.enabled)
    }
}
