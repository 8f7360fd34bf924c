import GlimpseCore

/// Settings of the built-in identity service.
public struct IdentityOptions: Sendable {
    /// The listener's public URL (no trailing slash); the catalog and links are built from it.
    public var publicURL: String
    /// Token lifetime in seconds (Keystone's `[token] expiration`, default 3600).
    public var tokenLifetime: Int
    /// How long a validated token is trusted from memory before the store is asked again.
    public var cacheTTL: Duration
    /// PBKDF2 rounds for new password hashes.
    public var passwordRounds: Int
    public var region: String
    /// Account lockout and the per-address limit on failed authentications.
    public var bruteForce: AuthenticationGuard.Options

    public init(
        publicURL: String, tokenLifetime: Int = 3600, cacheTTL: Duration = .seconds(5),
        passwordRounds: Int = PasswordHasher.defaultRounds, region: String = "RegionOne",
        bruteForce: AuthenticationGuard.Options = .init()
    ) {
        self.bruteForce = bruteForce
        self.publicURL = publicURL
        self.tokenLifetime = tokenLifetime
        self.cacheTTL = cacheTTL
        self.passwordRounds = passwordRounds
        self.region = region
    }
}
