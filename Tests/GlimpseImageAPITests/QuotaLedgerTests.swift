import GlimpseCore
import Synchronization
import Testing

@testable import GlimpseImageAPI

/// Writers whose size is unknown grow their reservations step by step: many of them at once must not share out the
/// quota so that none can finish.
@Suite struct QuotaLedgerTests {
    static let mib: Int64 = 1 << 20

    /// Stored bytes of the project, as the metadata store would report them.
    final class Store: Sendable {
        let stored = Mutex<Int64>(0)
        func used(_: String) -> Int64 { stored.withLock { $0 } }
        func commit(_ bytes: Int64) { stored.withLock { $0 += bytes } }
    }

    /// One writer streaming `size` bytes in 1 MiB chunks, as the upload pipeline covers them.
    static func write(_ size: Int64, ledger: QuotaLedger, store: Store, quota: Int64) async -> Bool {
        // Usage is a database query: writers check it at the same time and see each other's holds.
        // No bound on the wait here: how long the writers take depends on the machine's load.
        let reservation = QuotaReservation(ledger: ledger, owner: "p", quota: quota, longestWait: .seconds(3600)) { owner in
            try await Task.sleep(for: .milliseconds(5))
            return store.used(owner)
        }
        defer { reservation.release() }
        do {
            var total: Int64 = 0
            while total < size {
                total += mib
                if total > reservation.granted { try await reservation.cover(total) }
                // Like streamed chunks, writers interleave.
                try await Task.sleep(for: .milliseconds(1))
            }
            store.commit(size)
            return true
        } catch {
            return false
        }
    }

    /// Several rounds: whether the writers stall each other depends on how they interleave.
    @Test(arguments: 0..<5) func eightUnsizedWritersOfWhichOneFitsLeaveOneWinner(round: Int) async throws {
        let ledger = QuotaLedger()
        let store = Store()
        let wins = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask { await Self.write(60 * Self.mib, ledger: ledger, store: store, quota: 100 * Self.mib) }
            }
            return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(wins == 1)
        #expect(store.used("p") == 60 * Self.mib)
        #expect(ledger.heldByOthers(owner: "p", writer: 0) == 0)
    }

    @Test func unsizedWritersThatAllFitAllWin() async throws {
        let ledger = QuotaLedger()
        let store = Store()
        let wins = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask { await Self.write(10 * Self.mib, ledger: ledger, store: store, quota: 100 * Self.mib) }
            }
            return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(wins == 4)
        #expect(store.used("p") == 40 * Self.mib)
    }

    @Test func theRefusalNamesWhatIsLeft() async throws {
        let ledger = QuotaLedger()
        let store = Store()
        store.commit(90 * Self.mib)
        let reservation = QuotaReservation(ledger: ledger, owner: "p", quota: 100 * Self.mib, usage: { store.used($0) })
        await #expect(throws: GlimpseError.self) { try await reservation.cover(exactly: 11 * Self.mib) }
        try await reservation.cover(exactly: 10 * Self.mib)
        #expect(reservation.granted == 10 * Self.mib)
        reservation.release()
        #expect(ledger.heldByOthers(owner: "p", writer: 0) == 0)
    }
}
