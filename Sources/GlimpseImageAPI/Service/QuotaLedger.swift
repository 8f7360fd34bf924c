import GlimpseCore
import Synchronization

/// Bytes each project's in-flight writes hold against its storage quota. Every path that writes image data reserves
/// here before its bytes are accepted, so concurrent writers of one project can never together exceed the quota:
/// a reservation is added and then checked against stored usage read *after* it, and released only after the
/// written image's size is in the metadata store (a write is counted twice for a moment, never zero times).
final class QuotaLedger: Sendable {
    private let reserved = Mutex<[String: Int64]>([:])

    /// Adds `bytes` to `owner`'s reservations and returns the owner's total reserved bytes, this addition included.
    func add(_ bytes: Int64, owner: String) -> Int64 {
        reserved.withLock { table in
            let total = (table[owner] ?? 0) + bytes
            table[owner] = total
            return total
        }
    }

    func remove(_ bytes: Int64, owner: String) {
        reserved.withLock { table in
            let left = (table[owner] ?? 0) - bytes
            table[owner] = left > 0 ? left : nil
        }
    }
}

/// One writer's hold on its project's quota. It grows as data arrives (in steps, or all at once when the size
/// is declared) and is given back when the write ends, whichever way it ends.
final class QuotaReservation: Sendable {
    /// How far ahead of the data a reservation grows, so that the usage query runs once per step, not per chunk.
    static let step: Int64 = 8 << 20

    let ledger: QuotaLedger
    let owner: String
    let quota: Int64
    let usage: @Sendable (String) async throws -> Int64
    private let held = Mutex<Int64>(0)

    init(ledger: QuotaLedger, owner: String, quota: Int64, usage: @escaping @Sendable (String) async throws -> Int64) {
        self.ledger = ledger
        self.owner = owner
        self.quota = quota
        self.usage = usage
    }

    var granted: Int64 { held.withLock { $0 } }

    /// Makes the reservation cover `bytes` in total: first a step ahead, else exactly `bytes`; 413 when even
    /// that would take the project over its quota.
    func cover(_ bytes: Int64) async throws {
        let current = granted
        guard bytes > current else { return }
        if try await grow(to: bytes + Self.step) { return }
        if try await grow(to: bytes) { return }
        try await refuse(bytes)
    }

    /// Reserves exactly `bytes` in total (a declared size), or 413.
    func cover(exactly bytes: Int64) async throws {
        if try await grow(to: bytes) { return }
        try await refuse(bytes)
    }

    private func refuse(_ bytes: Int64) async throws -> Never {
        let others = ledger.add(0, owner: owner) - granted
        let used = try await usage(owner)
        let remaining = max(0, quota - used - others)
        throw GlimpseError.tooLarge("The size of the data \(bytes) will exceed the limit. \(remaining) bytes remaining.")
    }

    private func grow(to target: Int64) async throws -> Bool {
        let delta = target - granted
        guard delta > 0 else { return true }
        let totalReserved = ledger.add(delta, owner: owner)
        // Usage is read after the reservation is visible to every other writer: one of two racing writers
        // always sees the other.
        let used: Int64
        do {
            used = try await usage(owner)
        } catch {
            ledger.remove(delta, owner: owner)
            throw error
        }
        if used > quota - totalReserved {
            ledger.remove(delta, owner: owner)
            return false
        }
        held.withLock { $0 += delta }
        return true
    }

    /// Gives the whole reservation back.
    func release() {
        let amount = held.withLock { value in
            defer { value = 0 }
            return value
        }
        if amount > 0 { ledger.remove(amount, owner: owner) }
    }
}
