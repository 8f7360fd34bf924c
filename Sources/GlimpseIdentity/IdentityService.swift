import Foundation
import GlimpseCore
import GlimpseStorage
import Logging
import Synchronization

/// The built-in identity: bootstrap, password, token and application credential authentication (behind the
/// brute-force guard), token validation behind a small cache, revocation, and the administration of domains,
/// projects, users, roles, assignments and application credentials. Every permission check (`IdentityPolicy`) and
/// every cache invalidation happens here; the controllers only parse and render.
public final class IdentityService: Sendable {
    public let store: any IdentityStore
    public let options: IdentityOptions
    let logger: Logger
    let cache: TokenCache
    let issued = Atomic<Int>(0)
    let bruteForce: AuthenticationGuard

    public static let defaultDomainID = "default"

    public init(store: any IdentityStore, options: IdentityOptions, logger: Logger) {
        self.store = store
        self.options = options
        self.logger = logger
        // With a store shared by several nodes, a revocation (or a user disabled, a role removed, a credential
        // deleted) on another node must fail here at once. A cached validation is therefore checked against the
        // store's change version (one single-row query, where a full validation takes about ten); a cross-node
        // notification (LISTEN/NOTIFY) would save that query but trust stale entries while a notification is in
        // flight or its connection is being re-established, which is not "at once".
        self.cache = TokenCache(ttl: options.cacheTTL)
        self.bruteForce = AuthenticationGuard(options: options.bruteForce)
    }

    static func now() -> Timestamp {
        Timestamp(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
    }

    /// After any change to users, projects, roles or assignments: tokens validated from memory are checked again.
    func changed() { cache.removeAll() }

    static func notFound(_ kind: String, _ id: String) -> GlimpseError { .notFound("Could not find \(kind): \(id).") }
}
