import GlimpseCore
import Synchronization

/// Validated tokens by SHA-256, each trusted for a short time and, with a store shared by several nodes, only
/// while the store's change version is the one read before the validation. Bounded; a full cache drops expired
/// entries, then everything.
final class TokenCache: Sendable {
    struct Entry {
        var context: AuthContext
        var until: ContinuousClock.Instant
        var version: Int64?
    }

    let ttl: Duration
    let maxEntries: Int
    let entries = Mutex<[String: Entry]>([:])

    init(ttl: Duration, maxEntries: Int = 50_000) {
        self.ttl = ttl
        self.maxEntries = maxEntries
    }

    func get(_ hash: String, version: Int64? = nil) -> AuthContext? {
        guard ttl > .zero else { return nil }
        let now = ContinuousClock.now
        return entries.withLock { e in
            guard let hit = e[hash] else { return nil }
            if hit.until <= now || hit.version != version {
                e[hash] = nil
                return nil
            }
            return hit.context
        }
    }

    /// `version`: the store's change version read before `context` was built from the store.
    func put(_ hash: String, _ context: AuthContext, version: Int64? = nil) {
        guard ttl > .zero else { return }
        let now = ContinuousClock.now
        entries.withLock { e in
            if e.count >= maxEntries {
                e = e.filter { $0.value.until > now }
                if e.count >= maxEntries { e.removeAll(keepingCapacity: true) }
            }
            e[hash] = Entry(context: context, until: now + ttl, version: version)
        }
    }

    func remove(_ hash: String) { _ = entries.withLock { $0.removeValue(forKey: hash) } }
    func removeAll() { entries.withLock { $0.removeAll() } }
}
