import GlimpseCore
import Synchronization

/// Bytes each project's in-flight writes hold against its storage quota. Every path that writes image data reserves
/// here before its bytes are accepted, so concurrent writers of one project can never together exceed the quota:
/// a reservation is added and then checked against stored usage read *after* it, and released only after the
/// written image's size is in the metadata store (a write is counted twice for a moment, never zero times).
/// Holds are kept per writer, in arrival order, so a writer whose size is not known in advance can tell whether
/// an older writer of its project is still in flight (see `QuotaReservation.cover(_:)`).
final class QuotaLedger: Sendable {
    private struct State {
        var nextWriter: UInt64 = 0
        var holds: [String: [UInt64: Int64]] = [:]
    }
    private let state = Mutex(State())

    /// A new writer's place in the arrival order.
    func enroll() -> UInt64 {
        state.withLock { s in
            s.nextWriter += 1
            return s.nextWriter
        }
    }

    /// Adds `bytes` to `writer`'s hold on `owner`'s quota and returns the owner's total held bytes, this addition
    /// included.
    func add(_ bytes: Int64, owner: String, writer: UInt64) -> Int64 {
        state.withLock { s in
            var table = s.holds[owner] ?? [:]
            table[writer, default: 0] += bytes
            if table[writer] ?? 0 <= 0 { table[writer] = nil }
            s.holds[owner] = table.isEmpty ? nil : table
            return table.values.reduce(0, +)
        }
    }

    func remove(_ bytes: Int64, owner: String, writer: UInt64) {
        _ = add(-bytes, owner: owner, writer: writer)
    }

    /// The bytes held for `owner` by every writer but `writer`.
    func heldByOthers(owner: String, writer: UInt64) -> Int64 {
        state.withLock { s in
            (s.holds[owner] ?? [:]).reduce(0) { $0 + ($1.key == writer ? 0 : $1.value) }
        }
    }

    /// Whether a writer of `owner` that arrived before `writer` still holds bytes.
    func olderWriterHolds(owner: String, writer: UInt64) -> Bool {
        state.withLock { s in (s.holds[owner] ?? [:]).keys.contains { $0 < writer } }
    }
}

/// One writer's hold on its project's quota. It grows as data arrives (in steps, or all at once when the size
/// is declared) and is given back when the write ends, whichever way it ends.
final class QuotaReservation: Sendable {
    /// How far ahead of the data a reservation grows, so that the usage query runs once per step, not per chunk.
    static let step: Int64 = 8 << 20
    /// How often a writer whose next step does not fit looks again whether older writers finished.
    static let retryInterval: Duration = .milliseconds(50)

    let ledger: QuotaLedger
    let owner: String
    let quota: Int64
    let usage: @Sendable (String) async throws -> Int64
    /// How long at most such a writer waits (its client is kept waiting meanwhile).
    let longestWait: Duration
    private let writer: UInt64
    private let held = Mutex<Int64>(0)

    init(
        ledger: QuotaLedger, owner: String, quota: Int64, longestWait: Duration = .seconds(30),
        usage: @escaping @Sendable (String) async throws -> Int64
    ) {
        self.ledger = ledger
        self.owner = owner
        self.quota = quota
        self.longestWait = longestWait
        self.usage = usage
        self.writer = ledger.enroll()
    }

    var granted: Int64 { held.withLock { $0 } }

    /// Makes the reservation cover `bytes` in total: first a step ahead, else exactly `bytes`; 413 when even
    /// that would take the project over its quota.
    ///
    /// Writers of unknown size grow step by step, so several of them together could each hold a part of the quota
    /// and leave none able to finish. A writer whose step does not fit therefore waits (bounded) while an older
    /// writer of its project is in flight, and only the oldest is refused at once: the older ones finish or give
    /// their holds back, and a write that fits the quota on its own always has a writer that completes it.
    func cover(_ bytes: Int64) async throws {
        guard bytes > granted else { return }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: longestWait)
        while true {
            if try await grow(to: bytes + Self.step) { return }
            if try await grow(to: bytes) { return }
            guard ledger.olderWriterHolds(owner: owner, writer: writer), clock.now < deadline else { break }
            try await Task.sleep(for: Self.retryInterval)
        }
        try await refuse(bytes)
    }

    /// Reserves exactly `bytes` in total (a declared size), or 413.
    func cover(exactly bytes: Int64) async throws {
        if try await grow(to: bytes) { return }
        try await refuse(bytes)
    }

    private func refuse(_ bytes: Int64) async throws -> Never {
        let others = ledger.heldByOthers(owner: owner, writer: writer)
        let used = try await usage(owner)
        let remaining = max(0, quota - used - others)
        throw GlimpseError.tooLarge("The size of the data \(bytes) will exceed the limit. \(remaining) bytes remaining.")
    }

    private func grow(to target: Int64) async throws -> Bool {
        let delta = target - granted
        guard delta > 0 else { return true }
        let totalReserved = ledger.add(delta, owner: owner, writer: writer)
        // Usage is read after the reservation is visible to every other writer: one of two racing writers
        // always sees the other.
        let used: Int64
        do {
            used = try await usage(owner)
        } catch {
            ledger.remove(delta, owner: owner, writer: writer)
            throw error
        }
        if used > quota - totalReserved {
            ledger.remove(delta, owner: owner, writer: writer)
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
        if amount > 0 { ledger.remove(amount, owner: owner, writer: writer) }
    }
}
