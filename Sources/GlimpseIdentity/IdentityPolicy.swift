import GlimpseCore

/// Keystone's default identity policy for the rules Glimpse serves. Every permission check of the identity API
/// is decided here, so the rules can be read (and changed) in one place.
enum IdentityPolicy {
    static func forbidden(_ action: String) -> GlimpseError {
        .forbidden("You are not authorized to perform the requested action: identity:\(action).")
    }

    static func require(_ allowed: Bool, _ action: String) throws {
        guard allowed else { throw forbidden(action) }
    }

    /// `admin_required`: the identity administrator.
    static func isAdmin(_ auth: AuthContext) -> Bool { auth.isAdmin }

    /// Reads of users, projects, roles and assignments.
    static func isReader(_ auth: AuthContext) -> Bool { auth.isAdmin }

    /// `service_or_admin`.
    static func isServiceOrAdmin(_ auth: AuthContext) -> Bool { isAdmin(auth) || auth.roleNames.contains("service") }

    static func requireAdmin(_ auth: AuthContext, _ action: String) throws { try require(isAdmin(auth), action) }
    static func requireReader(_ auth: AuthContext, _ action: String) throws { try require(isReader(auth), action) }
}
