// The listener-wide cap on open connections. Past the cap a new connection takes the place of the connection that
// has waited longest between requests (closing an idle kept-alive connection is always allowed in HTTP/1.1: the
// client reconnects); when every open connection is inside a request, the new one is closed at once. Either way the
// process never runs out of file descriptors and a new client is answered or refused without waiting.

import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Counts open connections across all event loops and picks which connection to give up when the cap is reached.
public final class ConnectionLimiter: Sendable {
    /// The most connections open at once.
    public let maximum: Int
    private let state: NIOLockedValueBox<State>
    private let logger: Logger

    public init(maximum: Int, logger: Logger) {
        self.maximum = max(1, maximum)
        self.state = NIOLockedValueBox(State())
        self.logger = logger
    }

    /// Connections open now (for logs and tests).
    public var openConnections: Int { state.withLockedValue { $0.open.count } }

    /// Registers a new connection, closing the longest-idle one when the cap is reached. Returns false when no
    /// connection can make room: the caller then closes the new connection.
    func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let (admitted, victim): (Bool, (any Channel)?) = state.withLockedValue { state in
            var victim: (any Channel)?
            if state.open.count >= maximum {
                guard let oldest = state.takeLongestIdle() else { return (false, nil) }
                victim = oldest
            }
            state.open[id] = Entry(channel: channel, idleTicket: nil)
            state.markIdle(id)
            return (true, victim)
        }
        if let victim {
            logger.debug("connection limit \(maximum) reached: closing the longest-idle connection for a new one")
            victim.close(promise: nil)
        } else if !admitted {
            logger.debug("connection limit \(maximum) reached and every connection is busy: refusing a new one")
        }
        return admitted
    }

    /// The connection is between requests: it may be given up for a new connection, oldest first.
    func markIdle(_ channel: any Channel) {
        state.withLockedValue { $0.markIdle(ObjectIdentifier(channel)) }
    }

    /// The connection is inside a request: it is not given up for another.
    func markBusy(_ channel: any Channel) {
        state.withLockedValue { $0.open[ObjectIdentifier(channel)]?.idleTicket = nil }
    }

    /// The connection closed (a connection already given up is not counted twice).
    func release(_ channel: any Channel) {
        _ = state.withLockedValue { $0.open.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    struct Entry {
        let channel: any Channel
        /// Set while the connection is idle: its place in `idleOrder`.
        var idleTicket: UInt64?
    }

    /// Open connections, and the idle ones in the order they became idle. `idleOrder` is append-only with lazy
    /// removal (a connection that got busy or closed leaves a stale ticket behind), so every operation is O(1)
    /// amortised however many connections are open.
    struct State {
        var open: [ObjectIdentifier: Entry] = [:]
        var idleOrder: [(id: ObjectIdentifier, ticket: UInt64)] = []
        var idleHead = 0
        var nextTicket: UInt64 = 0

        mutating func markIdle(_ id: ObjectIdentifier) {
            guard open[id] != nil else { return }
            nextTicket &+= 1
            open[id]?.idleTicket = nextTicket
            idleOrder.append((id, nextTicket))
            compactIfSparse()
        }

        mutating func takeLongestIdle() -> (any Channel)? {
            while idleHead < idleOrder.count {
                let candidate = idleOrder[idleHead]
                idleHead += 1
                if let entry = open[candidate.id], entry.idleTicket == candidate.ticket {
                    open.removeValue(forKey: candidate.id)
                    compactIfSparse()
                    return entry.channel
                }
            }
            compactIfSparse()
            return nil
        }

        /// Drops consumed and stale tickets once they outnumber the open connections, so memory follows the number
        /// of connections, not the number of requests served.
        private mutating func compactIfSparse() {
            guard idleOrder.count > 64, idleOrder.count > 2 * open.count else { return }
            idleOrder = idleOrder[idleHead...].filter { open[$0.id]?.idleTicket == $0.ticket }
            idleHead = 0
        }
    }
}
