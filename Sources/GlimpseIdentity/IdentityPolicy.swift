import GlimpseCore

/// Keystone's default identity policy for the rules Glimpse serves. Every permission check of the identity API
/// is decided here, so the rules can be read (and changed) in one place.
///
/// - system admin (`role:admin and system_scope:all`) and the legacy project-scoped admin manage everything;
/// - system reader (`role:reader and system_scope:all`) reads everything;
/// - a domain admin manages the projects and users of its domain, a domain reader reads them.
enum IdentityPolicy {
    static func forbidden(_ action: String) -> GlimpseError {
        .forbidden("You are not authorized to perform the requested action: identity:\(action).")
    }

    static func require(_ allowed: Bool, _ action: String) throws {
        guard allowed else { throw forbidden(action) }
    }

    static func isSystemAdmin(_ auth: AuthContext) -> Bool { auth.system && auth.roleNames.contains("admin") }
    static func isSystemReader(_ auth: AuthContext) -> Bool { auth.system && auth.roleNames.contains("reader") }

    /// `admin_required` or system admin: the identity administrator.
    static func isAdmin(_ auth: AuthContext) -> Bool { auth.isAdmin || isSystemAdmin(auth) }

    /// Reads of users, projects, roles and assignments everywhere.
    static func isReader(_ auth: AuthContext) -> Bool { isAdmin(auth) || isSystemReader(auth) }

    /// An admin of `domainID` by a token scoped to that domain.
    static func isDomainAdmin(_ auth: AuthContext, of domainID: String) -> Bool {
        auth.domain?.id == domainID && auth.roleNames.contains("admin")
    }

    static func isDomainReader(_ auth: AuthContext, of domainID: String) -> Bool {
        auth.domain?.id == domainID && auth.roleNames.contains("reader")
    }

    /// Manages the resources of `domainID`: the administrator or that domain's admin.
    static func managesDomain(_ auth: AuthContext, _ domainID: String) -> Bool {
        isAdmin(auth) || isDomainAdmin(auth, of: domainID)
    }

    static func readsDomain(_ auth: AuthContext, _ domainID: String) -> Bool {
        isReader(auth) || isDomainReader(auth, of: domainID)
    }

    /// Roles are read by readers and by domain readers (who need them to grant roles in their domain).
    static func readsRoles(_ auth: AuthContext) -> Bool {
        isReader(auth) || (auth.domain.map { isDomainReader(auth, of: $0.id) } ?? false)
    }

    /// `service_or_admin`.
    static func isServiceOrAdmin(_ auth: AuthContext) -> Bool { isAdmin(auth) || auth.roleNames.contains("service") }

    /// Possibly allowed to manage projects and users: the administrator, or a domain admin (whose domain is checked
    /// against the resource afterwards).
    static func requireManager(_ auth: AuthContext, _ action: String) throws {
        try require(isAdmin(auth) || (auth.domain.map { isDomainAdmin(auth, of: $0.id) } ?? false), action)
    }

    /// Who may list projects or users: readers see every domain (nil); a domain reader sees its own domain only.
    static func listingDomain(_ auth: AuthContext, filter: String?, _ action: String) throws -> String? {
        if isReader(auth) { return nil }
        guard let domain = auth.domain, isDomainReader(auth, of: domain.id), filter == nil || filter == domain.id else {
            throw forbidden(action)
        }
        return domain.id
    }

    static func requireAdmin(_ auth: AuthContext, _ action: String) throws { try require(isAdmin(auth), action) }
    static func requireReader(_ auth: AuthContext, _ action: String) throws { try require(isReader(auth), action) }
}
