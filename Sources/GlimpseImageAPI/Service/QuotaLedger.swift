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
        /// Counts every change, so totals published to other nodes can be ordered.
        var version: Int64 = 0
        /// Bytes granted to each writer, per owner.
        var held: [String: [UInt64: Int64]] = [:]
        /// Bytes writers are asking for right now (added before their usage query, removed or granted after it).
        var pending: [String: [UInt64: Int64]] = [:]
    }
    private let state = Mutex(State())

    /// A new writer's place in the arrival order.
    func enroll() -> UInt64 {
        state.withLock { s in
            s.nextWriter += 1
            return s.nextWriter
        }
    }

    /// Announces that `writer` asks for `bytes` more; returns the owner's total, held and pending, this ask included.
    func ask(_ bytes: Int64, owner: String, writer: UInt64) -> Int64 {
        state.withLock { s in
            s.version += 1
            s.pending[owner, default: [:]][writer, default: 0] += bytes
            return Self.total(s.held[owner]) + Self.total(s.pending[owner])
        }
    }

    /// What this node's writers of `owner` hold and ask for now, with the change count it was read at.
    func nodeTotal(owner: String) -> (bytes: Int64, version: Int64) {
        state.withLock { s in (Self.total(s.held[owner]) + Self.total(s.pending[owner]), s.version) }
    }

    /// Ends `writer`'s ask: granted (the bytes become held) or withdrawn.
    func settle(_ bytes: Int64, owner: String, writer: UInt64, granted: Bool) {
        state.withLock { s in
            s.version += 1
            Self.adjust(&s.pending, owner, writer, -bytes)
            if granted { Self.adjust(&s.held, owner, writer, bytes) }
        }
    }

    /// Gives back `bytes` `writer` held.
    func remove(_ bytes: Int64, owner: String, writer: UInt64) {
        state.withLock { s in
            s.version += 1
            Self.adjust(&s.held, owner, writer, -bytes)
        }
    }

    /// The bytes held for `owner` by every writer but `writer` (pending asks not counted).
    func heldByOthers(owner: String, writer: UInt64) -> Int64 {
        state.withLock { s in (s.held[owner] ?? [:]).reduce(0) { $0 + ($1.key == writer ? 0 : $1.value) } }
    }

    /// Whether a writer of `owner` that arrived before `writer` still holds bytes.
    func olderWriterHolds(owner: String, writer: UInt64) -> Bool {
        state.withLock { s in (s.held[owner] ?? [:]).keys.contains { $0 < writer } }
    }

    private static func total(_ table: [UInt64: Int64]?) -> Int64 { (table ?? [:]).values.reduce(0, +) }

    private static func adjust(_ tables: inout [String: [UInt64: Int64]], _ owner: String, _ writer: UInt64, _ bytes: Int64) {
        var table = tables[owner] ?? [:]
        let value = (table[writer] ?? 0) + bytes
        table[writer] = value > 0 ? value : nil
        tables[owner] = table.isEmpty ? nil : table
    }
}

/// One writer's hold on its project's quota. It grows as data arrives (in steps, or all at once when the size
/// is declared) and is given back when the write ends, whichever way it ends.
final class QuotaReservation: Sendable {
    /// How far ahead of the data a reservation grows, so that the usage query runs once per step, not per chunk.
    static let step: Int64 = 8 << 20
    /// How long a writer whose next step does not fit pauses before it looks again whether older writers finished:
    /// 25–100 ms, spread at random so that writers that crowded each other out do not ask again all at once.
    static var retryPause: Duration { .milliseconds(Int.random(in: 25...100)) }

    let ledger: QuotaLedger
    let owner: String
    let quota: Int64
    let usage: @Sendable (String) async throws -> Int64
    /// With several nodes on one database: tells the other nodes what this node's writers of the project hold
    /// and ask for (their `usage` includes it). Nil on a single node.
    let publish: (@Sendable (_ owner: String, _ bytes: Int64, _ version: Int64) async throws -> Void)?
    /// How long at most such a writer waits (its client is kept waiting meanwhile).
    let longestWait: Duration
    private let writer: UInt64
    private let held = Mutex<Int64>(0)

    init(
        ledger: QuotaLedger, owner: String, quota: Int64, longestWait: Duration = .seconds(30),
        usage: @escaping @Sendable (String) async throws -> Int64,
        publish: (@Sendable (_ owner: String, _ bytes: Int64, _ version: Int64) async throws -> Void)? = nil
    ) {
        self.publish = publish
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
    /// writer of its project holds bytes, and only the oldest is refused: the older ones finish or give their holds
    /// back, so a write that fits the quota on its own always has a writer that completes it. A step refused only
    /// because other writers were asking at the same moment is asked again, never refused.
    func cover(_ bytes: Int64) async throws {
        guard bytes > granted else { return }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: longestWait)
        while true {
            var outcome = try await grow(to: bytes + Self.step)
            if outcome == .granted { return }
            outcome = try await grow(to: bytes)
            if outcome == .granted { return }
            let mayWait = outcome == .crowded || ledger.olderWriterHolds(owner: owner, writer: writer)
            guard mayWait, clock.now < deadline else { break }
            // Waiting writers do not ask again while an older one holds: their asks would crowd it out.
            repeat {
                try await Task.sleep(for: Self.retryPause)
            } while outcome != .crowded && ledger.olderWriterHolds(owner: owner, writer: writer) && clock.now < deadline
        }
        try await refuse(bytes)
    }

    /// Reserves exactly `bytes` in total (a declared size), or 413.
    func cover(exactly bytes: Int64) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: longestWait)
        while true {
            let outcome = try await grow(to: bytes)
            if outcome == .granted { return }
            guard outcome == .crowded, clock.now < deadline else { break }
            try await Task.sleep(for: Self.retryPause)
        }
        try await refuse(bytes)
    }

    private func refuse(_ bytes: Int64) async throws -> Never {
        let others = ledger.heldByOthers(owner: owner, writer: writer)
        let used = try await usage(owner)
        let remaining = max(0, quota - used - others)
        throw GlimpseError.tooLarge("The size of the data \(bytes) will exceed the limit. \(remaining) bytes remaining.")
    }

    enum Growth: Equatable {
        case granted
        /// It does not fit beside what is stored and what other writers hold.
        case full
        /// It would fit, but other writers' asks of the same moment took the room.
        case crowded
    }

    private func grow(to target: Int64) async throws -> Growth {
        let delta = target - granted
        guard delta > 0 else { return .granted }
        let total = ledger.ask(delta, owner: owner, writer: writer)
        // Usage is read after the ask is visible to every other writer, on this node and (published) on the others:
        // one of two racing writers always sees the other (a finishing write is in the metadata store before its
        // hold is given back).
        let used: Int64
        do {
            try await publishNodeTotal()
            used = try await usage(owner)
        } catch {
            ledger.settle(delta, owner: owner, writer: writer, granted: false)
            try? await publishNodeTotal()
            throw error
        }
        if used <= quota - total {
            ledger.settle(delta, owner: owner, writer: writer, granted: true)
            held.withLock { $0 += delta }
            return .granted
        }
        ledger.settle(delta, owner: owner, writer: writer, granted: false)
        try? await publishNodeTotal()
        let firm = used + ledger.heldByOthers(owner: owner, writer: writer) + target
        return firm <= quota ? .crowded : .full
    }

    /// Gives the whole reservation back.
    func release() {
        let amount = held.withLock { value in
            defer { value = 0 }
            return value
        }
        if amount > 0 {
            ledger.remove(amount, owner: owner, writer: writer)
            // The smaller total reaches the other nodes shortly; until then they count this node's hold twice
            // beside the stored size, which errs on the safe side.
            if publish != nil { Task { try? await publishNodeTotal() } }
        }
    }

    private func publishNodeTotal() async throws {
        guard let publish else { return }
        let (bytes, version) = ledger.nodeTotal(owner: owner)
        try await publish(owner, bytes, version)
    }
}
