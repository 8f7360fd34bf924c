import GlimpseCore
import GlimpseStorage

// Role inference rules (`/v3/roles/{prior}/implies/{implied}`, `/v3/role_inferences`): a user granted the prior
// role holds the implied one too, in tokens and effective role assignments.
extension IdentityService {
    /// One prior role and the roles it directly implies.
    public struct RoleInference: Sendable {
        public var prior: IdentityRole
        public var implies: [IdentityRole]
    }

    func requireRoleRecord(_ id: String) async throws -> IdentityRole {
        guard let r = try await store.roles().first(where: { $0.id == id }) else { throw Self.notFound("role", id) }
        return r
    }

    static func noInference(_ prior: String, _ implied: String) -> GlimpseError {
        .notFound("\(prior) does not imply \(implied).")
    }

    /// Keystone forbids a global role implying a domain-specific one (it would leak the domain's role into
    /// every domain) and a role implying itself.
    public func createInference(prior: String, implied: String, by auth: AuthContext) async throws -> RoleInference {
        try IdentityPolicy.requireAdmin(auth, "create_implied_role")
        let p = try await requireRoleRecord(prior)
        let i = try await requireRoleRecord(implied)
        if p.domainID == nil, i.domainID != nil {
            throw GlimpseError.forbidden("Implied role \(implied) must not be domain-specific when the prior role is global.")
        }
        guard p.id != i.id else { throw GlimpseError.badRequest("A role cannot imply itself.") }
        try await store.insertImpliedRole(IdentityImpliedRole(priorRoleID: p.id, impliedRoleID: i.id))
        changed()
        return RoleInference(prior: p, implies: [i])
    }

    public func inference(prior: String, implied: String, by auth: AuthContext) async throws -> RoleInference {
        try IdentityPolicy.require(IdentityPolicy.readsRoles(auth), "get_implied_role")
        let p = try await requireRoleRecord(prior)
        let i = try await requireRoleRecord(implied)
        guard try await store.impliedRoles().contains(IdentityImpliedRole(priorRoleID: prior, impliedRoleID: implied)) else {
            throw Self.noInference(prior, implied)
        }
        return RoleInference(prior: p, implies: [i])
    }

    public func deleteInference(prior: String, implied: String, by auth: AuthContext) async throws {
        try IdentityPolicy.requireAdmin(auth, "delete_implied_role")
        _ = try await requireRoleRecord(prior)
        _ = try await requireRoleRecord(implied)
        guard try await store.deleteImpliedRole(IdentityImpliedRole(priorRoleID: prior, impliedRoleID: implied)) else {
            throw Self.noInference(prior, implied)
        }
        changed()
    }

    /// The roles `prior` implies directly (not transitively, as Keystone lists them).
    public func inferences(prior: String, by auth: AuthContext) async throws -> RoleInference {
        try IdentityPolicy.require(IdentityPolicy.readsRoles(auth), "list_implied_roles")
        let p = try await requireRoleRecord(prior)
        let ids = Set(try await store.impliedRoles().filter { $0.priorRoleID == prior }.map(\.impliedRoleID))
        return RoleInference(prior: p, implies: try await store.roles().filter { ids.contains($0.id) })
    }

    /// Every rule, grouped by prior role.
    public func allInferences(by auth: AuthContext) async throws -> [RoleInference] {
        try IdentityPolicy.require(IdentityPolicy.readsRoles(auth), "list_role_inference_rules")
        let roles = try await store.roles()
        let byID = Dictionary(roles.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let rules = try await store.impliedRoles()
        return roles.compactMap { p in
            let implies = rules.filter { $0.priorRoleID == p.id }.compactMap { byID[$0.impliedRoleID] }
            return implies.isEmpty ? nil : RoleInference(prior: p, implies: implies)
        }
    }
}
