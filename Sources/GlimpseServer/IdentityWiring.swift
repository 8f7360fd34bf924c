import Foundation
import GlimpseHTTP
import GlimpseIdentity
import GlimpseStorage
import Hummingbird
import Logging

/// Settings of the identity side of `glimpse serve`.
public struct IdentitySettings: Sendable {
    /// The bootstrap admin's password. Nil: env `GLIMPSE_ADMIN_PASSWORD`, else generated on first start.
    public var adminPassword: String?
    /// Token lifetime in seconds (`--token-expiration`).
    public var tokenExpiration: Int
    /// How long a validated token is trusted from memory.
    public var tokenCacheTTL: Duration
    /// PBKDF2 rounds for password hashes (lower only in tests).
    public var passwordRounds: Int
    /// `--auth keystone`: the external Keystone and the service credentials used to validate tokens.
    public var keystoneURL: String?
    public var keystoneUser: String?
    public var keystonePassword: String?
    public var keystoneProject: String?
    public var keystoneUserDomain: String
    public var keystoneProjectDomain: String
    /// `--lockout-failure-attempts`: failed passwords in a row that lock a user (nil: no lockout, Keystone's default).
    public var lockoutFailureAttempts: Int?
    /// `--lockout-duration`, seconds.
    public var lockoutDuration: Int = 1800
    /// `--auth-failure-limit`: failed authentications per address and window before 429 (nil or 0: no limit).
    public var authFailureLimit: Int? = 10
    /// `--auth-failure-window`, seconds.
    public var authFailureWindow: Int = 60
    /// `--auth-limit-loopback`: apply both limits to loopback clients and the bootstrap admin too.
    public var authLimitLoopback: Bool = false
    /// The clock of the lockout and the address limit (tests replace it).
    public var bruteForceClock: @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }

    public init(
        adminPassword: String? = nil, tokenExpiration: Int = 3600, tokenCacheTTL: Duration = .seconds(5),
        passwordRounds: Int = PasswordHasher.defaultRounds, keystoneURL: String? = nil, keystoneUser: String? = nil,
        keystonePassword: String? = nil, keystoneProject: String? = nil, keystoneUserDomain: String = "Default",
        keystoneProjectDomain: String = "Default"
    ) {
        self.adminPassword = adminPassword
        self.tokenExpiration = tokenExpiration
        self.tokenCacheTTL = tokenCacheTTL
        self.passwordRounds = passwordRounds
        self.keystoneURL = keystoneURL
        self.keystoneUser = keystoneUser
        self.keystonePassword = keystonePassword
        self.keystoneProject = keystoneProject
        self.keystoneUserDomain = keystoneUserDomain
        self.keystoneProjectDomain = keystoneProjectDomain
    }
}

/// Chooses how requests are authenticated and mounts the Identity API under `/identity` when Glimpse serves it.
enum IdentityWiring {
    static func mount(
        on router: Router<GlimpseRequestContext>, config: GlimpseConfiguration, store: (any IdentityStore)?,
        logger: Logger
    ) async throws -> any Authenticator {
        let env = ProcessInfo.processInfo.environment
        switch config.auth {
        case .none:
            logger.warning("--auth none: X-User-Id, X-Project-Id and X-Roles headers are trusted as given. For development only; never expose this listener.")
            return TrustedHeaderAuthenticator()

        case .builtin:
            guard let store else { throw IdentityConfigurationError("--auth builtin needs the identity store") }
            let service = try await openBuiltin(config: config, store: store, logger: logger)
            IdentityController(service: service).addRoutes(to: router)
            logger.notice("built-in identity: Identity API v3 at \(config.publicURL)/identity/v3 (tokens last \(config.identity.tokenExpiration) s)")
            return BuiltinTokenAuthenticator(service: service)

        case .keystone:
            let s = config.identity
            guard let url = s.keystoneURL ?? env["GLIMPSE_KEYSTONE_URL"], !url.isEmpty else {
                throw IdentityConfigurationError("--auth keystone needs --keystone-url (or GLIMPSE_KEYSTONE_URL)")
            }
            guard let user = s.keystoneUser ?? env["GLIMPSE_KEYSTONE_USER"],
                let password = s.keystonePassword ?? env["GLIMPSE_KEYSTONE_PASSWORD"],
                let project = s.keystoneProject ?? env["GLIMPSE_KEYSTONE_PROJECT"]
            else {
                throw IdentityConfigurationError(
                    "--auth keystone needs service credentials: --keystone-user/--keystone-password/--keystone-project (or GLIMPSE_KEYSTONE_USER, GLIMPSE_KEYSTONE_PASSWORD, GLIMPSE_KEYSTONE_PROJECT)")
            }
            let authenticator = KeystoneTokenAuthenticator(
                keystoneURL: url,
                credentials: .init(
                    username: user, password: password, projectName: project, userDomainName: s.keystoneUserDomain,
                    projectDomainName: s.keystoneProjectDomain),
                cacheTTL: s.tokenCacheTTL, logger: logger)
            logger.notice("auth keystone: tokens are validated against \(authenticator.keystoneURL) as service user \(user)")
            return authenticator
        }
    }

    /// Bootstraps the identity store and writes `openrc` when the admin password is known.
    static func openBuiltin(
        config: GlimpseConfiguration, store: any IdentityStore, logger: Logger
    ) async throws -> IdentityService {
        guard config.identity.tokenExpiration > 0 else {
            throw IdentityConfigurationError("--token-expiration must be a positive number of seconds")
        }
        if let n = config.identity.lockoutFailureAttempts, n <= 0 {
            throw IdentityConfigurationError("--lockout-failure-attempts must be a positive number")
        }
        guard config.identity.lockoutDuration > 0, config.identity.authFailureWindow > 0 else {
            throw IdentityConfigurationError("--lockout-duration and --auth-failure-window must be positive numbers of seconds")
        }
        let dir = config.dataDirectory
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let s = config.identity
        let service = IdentityService(
            store: store,
            options: IdentityOptions(
                publicURL: config.publicURL, tokenLifetime: s.tokenExpiration, cacheTTL: s.tokenCacheTTL,
                passwordRounds: s.passwordRounds,
                bruteForce: AuthenticationGuard.Options(
                    lockoutFailureAttempts: s.lockoutFailureAttempts, lockoutDuration: .seconds(s.lockoutDuration),
                    addressFailureLimit: s.authFailureLimit.flatMap { $0 > 0 ? $0 : nil },
                    addressWindow: .seconds(s.authFailureWindow), includeLoopback: s.authLimitLoopback,
                    now: s.bruteForceClock)),
            logger: logger)
        let given = s.adminPassword ?? ProcessInfo.processInfo.environment["GLIMPSE_ADMIN_PASSWORD"]
        let result = try await service.bootstrap(adminPassword: given)
        let openrc = dir + "/openrc"
        if result.createdAdmin {
            logger.notice("bootstrapped identity: domain Default, project admin, user admin (role admin on the project and the system); roles admin > member > reader")
        } else if result.passwordSet {
            logger.notice("admin password reset from GLIMPSE_ADMIN_PASSWORD")
        }
        if let password = result.password, result.passwordSet || !FileManager.default.fileExists(atPath: openrc) {
            try writeOpenrc(path: openrc, publicURL: config.publicURL, password: password)
            logger.notice("admin credentials: source \(openrc)\(result.generated ? " (the admin password was generated)" : "")")
        } else if FileManager.default.fileExists(atPath: openrc) {
            logger.notice("admin credentials: source \(openrc)")
        } else {
            logger.notice("no openrc in \(dir): set GLIMPSE_ADMIN_PASSWORD and restart to write one (it resets the admin password)")
        }
        return service
    }

    static func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// A ready-to-source openrc, mode 0600, written atomically.
    static func writeOpenrc(path: String, publicURL: String, password: String) throws {
        let text = """
            # Glimpse admin credentials for the openstack CLI: source this file.
            export OS_AUTH_URL=\(shellQuote(publicURL + "/identity/v3"))
            export OS_IDENTITY_API_VERSION=3
            export OS_AUTH_TYPE=password
            export OS_USERNAME=admin
            export OS_PASSWORD=\(shellQuote(password))
            export OS_PROJECT_NAME=admin
            export OS_USER_DOMAIN_NAME=Default
            export OS_PROJECT_DOMAIN_NAME=Default
            export OS_REGION_NAME=RegionOne
            export OS_INTERFACE=public

            """
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw IdentityConfigurationError("cannot write \(tmp): errno \(errno)") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, 0o600)
        close(fd)
        guard written == bytes.count, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw IdentityConfigurationError("cannot write \(path)")
        }
    }
}

struct IdentityConfigurationError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
