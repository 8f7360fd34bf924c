import GlimpseCore
import Synchronization

/// Brute-force protection of password logins: Keystone's `[security_compliance]` account lockout (off unless
/// `lockout_failure_attempts` is set) and a limit on failed authentications per source address. Kept in memory on
/// each node: a restart forgets failures, as a lockout that outlives its duration would anyway. With several nodes
/// on one database each node counts only the failures it saw, so an attacker spreading guesses over N nodes gets up
/// to N times the attempts before a lockout or a 429; accepted (the limits still bound the rate per node).
public final class AuthenticationGuard: Sendable {
    public struct Options: Sendable {
        /// Failed passwords in a row that lock a user; nil: no lockout (Keystone's default).
        public var lockoutFailureAttempts: Int?
        /// How long a locked user stays locked.
        public var lockoutDuration: Duration
        /// Failed authentications from one address within `addressWindow` after which it gets 429; nil: no limit.
        public var addressFailureLimit: Int?
        public var addressWindow: Duration
        /// Also count loopback addresses, and lock the bootstrap admin when its attempts come from loopback. Off by
        /// default, so the operator on the host can always log in.
        public var includeLoopback: Bool
        /// The time lockouts and windows are measured with (tests move it by hand).
        public var now: @Sendable () -> ContinuousClock.Instant

        public init(
            lockoutFailureAttempts: Int? = nil, lockoutDuration: Duration = .seconds(1800), addressFailureLimit: Int? = 10,
            addressWindow: Duration = .seconds(60), includeLoopback: Bool = false,
            now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
        ) {
            self.now = now
            self.lockoutFailureAttempts = lockoutFailureAttempts
            self.lockoutDuration = lockoutDuration
            self.addressFailureLimit = addressFailureLimit
            self.addressWindow = addressWindow
            self.includeLoopback = includeLoopback
        }
    }

    struct UserFailures {
        var count: Int
        var last: ContinuousClock.Instant
    }

    struct AddressFailures {
        var count: Int
        var windowStart: ContinuousClock.Instant
    }

    struct State {
        var users: [String: UserFailures] = [:]
        var addresses: [String: AddressFailures] = [:]
    }

    let options: Options
    let state = Mutex(State())
    /// Bounds the memory an attacker can make the address table use; full tables drop entries whose window passed.
    let maxAddresses = 100_000

    public init(options: Options) { self.options = options }

    static func isLoopback(_ address: String?) -> Bool {
        guard let address else { return false }
        return address.hasPrefix("127.") || address == "::1" || address.hasPrefix("::ffff:127.")
    }

    func exempt(_ address: String?) -> Bool { !options.includeLoopback && Self.isLoopback(address) }

    /// 429 before any password work when the address failed too often in its current window.
    func checkAddress(_ address: String?) throws {
        guard let limit = options.addressFailureLimit, let address, !exempt(address) else { return }
        let now = options.now()
        let window = options.addressWindow
        let retry: Duration? = state.withLock { s in
            guard let f = s.addresses[address] else { return nil }
            if now - f.windowStart >= window {
                s.addresses[address] = nil
                return nil
            }
            return f.count >= limit ? window - (now - f.windowStart) : nil
        }
        if let retry { throw AuthenticationThrottled(retryAfterSeconds: max(1, Int(retry.components.seconds) + 1)) }
    }

    func recordAddressFailure(_ address: String?) {
        guard options.addressFailureLimit != nil, let address, !exempt(address) else { return }
        let now = options.now()
        let window = options.addressWindow
        state.withLock { s in
            if s.addresses.count >= maxAddresses {
                s.addresses = s.addresses.filter { now - $0.value.windowStart < window }
                if s.addresses.count >= maxAddresses { s.addresses.removeAll(keepingCapacity: true) }
            }
            if var f = s.addresses[address], now - f.windowStart < window {
                f.count += 1
                s.addresses[address] = f
            } else {
                s.addresses[address] = AddressFailures(count: 1, windowStart: now)
            }
        }
    }

    /// Whether the lockout applies to this attempt (the bootstrap admin from loopback is spared unless opted in).
    func lockoutApplies(isBootstrapAdmin: Bool, address: String?) -> Bool {
        options.lockoutFailureAttempts != nil && !(isBootstrapAdmin && exempt(address))
    }

    /// Throws Keystone's 401 while the user is locked; a lock whose duration passed is lifted.
    func checkUser(_ userID: String, isBootstrapAdmin: Bool, address: String?) throws {
        guard let attempts = options.lockoutFailureAttempts, lockoutApplies(isBootstrapAdmin: isBootstrapAdmin, address: address)
        else { return }
        let now = options.now()
        let duration = options.lockoutDuration
        let locked: Bool = state.withLock { s in
            guard let f = s.users[userID], f.count >= attempts else { return false }
            if now - f.last >= duration {
                s.users[userID] = nil
                return false
            }
            return true
        }
        if locked { throw GlimpseError.unauthorized("The account is locked for user: \(userID).") }
    }

    func recordUserFailure(_ userID: String, isBootstrapAdmin: Bool, address: String?) {
        guard lockoutApplies(isBootstrapAdmin: isBootstrapAdmin, address: address) else { return }
        let now = options.now()
        state.withLock { s in
            var f = s.users[userID] ?? UserFailures(count: 0, last: now)
            f.count += 1
            f.last = now
            s.users[userID] = f
        }
    }

    func recordUserSuccess(_ userID: String) {
        _ = state.withLock { $0.users.removeValue(forKey: userID) }
    }
}
