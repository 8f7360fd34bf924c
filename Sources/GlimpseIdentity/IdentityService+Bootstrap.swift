import GlimpseCore
import GlimpseStorage

// First start and repairs: the records `keystone-manage bootstrap` creates.
extension IdentityService {
    // MARK: bootstrap

    public struct BootstrapResult: Sendable {
        /// True when this call created the admin user (first start).
        public var createdAdmin: Bool
        /// True when the admin password was set or reset from the given password.
        public var passwordSet: Bool
        /// The password to put in openrc, when known (given, or generated now).
        public var password: String?
        public var generated: Bool
    }

    /// First start: domain `Default`, roles admin ⇒ member ⇒ reader, project `admin`, user `admin` with role
    /// `admin` on it and on the system. Later starts only repair what is missing and, when `adminPassword` is given and differs,
    /// reset the admin password (as `keystone-manage bootstrap` does).
    public func bootstrap(adminPassword: String?) async throws -> BootstrapResult {
        // Nodes sharing one database may start together: each step creates what it finds missing, so a node that
        // lost a race to create something (409) finds it on the next pass. Every pass that loses a race finds one
        // more record made, so the passes are bounded by the records a bootstrap creates (about a dozen); a short
        // random pause keeps racing nodes from meeting at the same step again.
        var attempt = 1
        while true {
            do {
                return try await bootstrapOnce(adminPassword: adminPassword)
            } catch let error as GlimpseError where error.kind == .conflict && attempt < 30 {
                attempt += 1
                logger.info("bootstrap: another node created the same record; trying again", metadata: ["attempt": "\(attempt)"])
                try await Task.sleep(for: .milliseconds(Int.random(in: 20...200)))
            }
        }
    }

    private func bootstrapOnce(adminPassword: String?) async throws -> BootstrapResult {
        try await store.purgeTokens(expiredBefore: Self.now())
        if try await store.domain(id: Self.defaultDomainID) == nil {
            try await store.insertDomain(
                IdentityDomain(id: Self.defaultDomainID, name: "Default", description: "The default domain"))
        }
        var roles = try await store.roles()
        func role(_ name: String) async throws -> IdentityRole {
            if let r = roles.first(where: { $0.name == name }) { return r }
            let r = IdentityRole(id: TokenCodec.newID(), name: name)
            try await store.insertRole(r)
            roles.append(r)
            return r
        }
        let admin = try await role("admin")
        let member = try await role("member")
        let reader = try await role("reader")
        _ = try await role("service")
        try await store.insertImpliedRole(IdentityImpliedRole(priorRoleID: admin.id, impliedRoleID: member.id))
        try await store.insertImpliedRole(IdentityImpliedRole(priorRoleID: member.id, impliedRoleID: reader.id))
        try await seedCatalog()

        let project: IdentityProject
        if let p = try await store.projects().first(where: { $0.name == "admin" && $0.domainID == Self.defaultDomainID }) {
            project = p
        } else {
            project = IdentityProject(
                id: TokenCodec.newID(), name: "admin", domainID: Self.defaultDomainID, description: "Bootstrap project")
            try await store.insertProject(project)
        }
        var result = BootstrapResult(createdAdmin: false, passwordSet: false, password: nil, generated: false)
        var user: IdentityUser
        if let u = try await store.user(name: "admin", domainID: Self.defaultDomainID) {
            user = u
            if let adminPassword, !adminPassword.isEmpty {
                result.password = adminPassword
                if await !PasswordHasher.verify(adminPassword, against: u.passwordHash) {
                    user.passwordHash = try await PasswordHasher.hash(adminPassword, rounds: options.passwordRounds)
                    try await store.updateUser(user)
                    try await store.revokeTokens(userID: user.id)
                    changed()
                    result.passwordSet = true
                }
            }
        } else {
            let password: String
            if let adminPassword, !adminPassword.isEmpty {
                password = adminPassword
            } else {
                password = TokenCodec.newPassword()
                result.generated = true
            }
            user = IdentityUser(
                id: TokenCodec.newID(), name: "admin", domainID: Self.defaultDomainID, defaultProjectID: project.id,
                passwordHash: try await PasswordHasher.hash(password, rounds: options.passwordRounds))
            try await store.insertUser(user)
            result.createdAdmin = true
            result.passwordSet = true
            result.password = password
        }
        _ = try await store.grant(IdentityRoleAssignment(userID: user.id, projectID: project.id, roleID: admin.id))
        // `keystone-manage bootstrap` makes the admin a system admin too.
        _ = try await store.grant(IdentityTargetAssignment(userID: user.id, target: .system, roleID: admin.id))
        return result
    }
}
