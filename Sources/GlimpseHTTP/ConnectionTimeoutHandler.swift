// Closes a connection whose client stops making progress: idle between requests, slow to send a request head, or
// stalled in the middle of a request body (see ConnectionTimeouts), and enforces the send timeout through the
// kernel. It also reports to the listener's ConnectionLimiter whether the connection is idle or inside a request.
// One per connection, added with Hummingbird's `additionalChannelHandlers`, so it sees whole HTTP parts.

import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes
#if canImport(Glibc)
import Glibc
#endif

public final class ConnectionTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    private let timeouts: ConnectionTimeouts
    private let limiter: ConnectionLimiter?
    private let logger: Logger

    private var context: ChannelHandlerContext?
    private var started = false
    private var stopped = false
    private var admitted = false

    /// Requests whose head arrived and whose response has not ended (more than one when a client pipelines).
    private var requestsInFlight = 0
    /// A request head arrived and its body has not ended.
    private var readingRequest = false
    /// Between requests: since when, and which limit applies (`requestHead` once bytes of a next request arrived).
    private var waitingForRequestSince = NIODeadline.now()
    private var waitingLimit = WaitingLimit.requestHead
    /// Since when the server has asked for bytes and received none; nil while the application holds reads back
    /// (it is busy with what it has), which is never the client's stall.
    private var readRequestedSince: NIODeadline?

    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    enum WaitingLimit { case idle, requestHead }

    public init(timeouts: ConnectionTimeouts, limiter: ConnectionLimiter?, logger: Logger) {
        self.timeouts = timeouts
        self.limiter = limiter
        self.logger = logger
    }

    // MARK: lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        try? context.pipeline.syncOperations.addHandler(ConnectionByteWatcher(owner: self), position: .first)
        if context.channel.isActive { start(context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        stop(context)
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        stop(context)
        self.context = nil
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !started, !stopped else { return }
        started = true
        if let limiter {
            guard limiter.admit(context.channel) else {
                context.close(promise: nil)
                return
            }
            admitted = true
        }
        applySendTimeout(context)
        waitingForRequestSince = .now()
        waitingLimit = .requestHead
        arm()
    }

    private func stop(_ context: ChannelHandlerContext) {
        stopped = true
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        if admitted {
            admitted = false
            limiter?.release(context.channel)
        }
    }

    /// TCP_USER_TIMEOUT: the kernel resets the connection when sent data stays unacknowledged this long, including
    /// while the client's receive window is closed because it stopped reading.
    private func applySendTimeout(_ context: ChannelHandlerContext) {
        #if os(Linux)
        let milliseconds = Self.milliseconds(timeouts.send)
        guard milliseconds > 0, let options = context.channel.syncOptions else { return }
        let option = ChannelOptions.Types.SocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: CInt(IPPROTO_TCP)),
            name: NIOBSDSocket.Option(rawValue: CInt(TCP_USER_TIMEOUT)))
        do {
            try options.setOption(option, value: SocketOptionValue(clamping: milliseconds))
        } catch {
            logger.debug("TCP_USER_TIMEOUT not set: \(error)")
        }
        #endif
    }

    // MARK: traffic

    /// Raw bytes arrived (from ConnectionByteWatcher, in front of the HTTP decoder).
    func clientSentBytes() {
        readRequestedSince = nil
        if requestsInFlight == 0, !readingRequest, waitingLimit == .idle {
            // The first byte of a next request: from now on it has `requestHead` to complete its head.
            waitingForRequestSince = .now()
            waitingLimit = .requestHead
            arm()
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requestsInFlight += 1
            readingRequest = true
            if let limiter, admitted { limiter.markBusy(context.channel) }
            arm()
        case .body:
            break
        case .end:
            readingRequest = false
            if requestsInFlight == 0 { enterWaitingForRequest(context) }
        }
        context.fireChannelRead(data)
    }

    public func read(context: ChannelHandlerContext) {
        if readRequestedSince == nil {
            readRequestedSince = .now()
            if readingRequest { arm() }
        }
        context.read()
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), requestsInFlight > 0 {
            requestsInFlight -= 1
            if requestsInFlight == 0, !readingRequest { enterWaitingForRequest(context) }
        }
        context.write(data, promise: promise)
    }

    private func enterWaitingForRequest(_ context: ChannelHandlerContext) {
        waitingForRequestSince = .now()
        waitingLimit = .idle
        if let limiter, admitted { limiter.markIdle(context.channel) }
        arm()
    }

    // MARK: the timer

    /// The moment this connection gives up as things stand, and why.
    private struct Deadline {
        let at: NIODeadline
        let reason: String
    }

    /// Nil while the server itself is the one working (handling a request, or holding reads back).
    private func currentDeadline() -> Deadline? {
        if readingRequest {
            guard let since = readRequestedSince else { return nil }
            return Deadline(at: since + Self.amount(timeouts.bodyStall), reason: "request body stalled")
        }
        if requestsInFlight > 0 { return nil }
        switch waitingLimit {
        case .idle:
            return Deadline(at: waitingForRequestSince + Self.amount(timeouts.idle), reason: "idle")
        case .requestHead:
            return Deadline(
                at: waitingForRequestSince + Self.amount(timeouts.requestHead), reason: "request head incomplete")
        }
    }

    /// One timer per connection. Deadlines that move later leave it alone (it re-checks when it fires), so a
    /// stream of body bytes does not reschedule it on every read; a deadline that moves earlier replaces it.
    private func arm() {
        guard let context, started, !stopped, let deadline = currentDeadline()?.at else { return }
        if let timerDeadline, timer != nil, timerDeadline <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: deadline) { [self] in
            fire()
        }
    }

    private func fire() {
        timer = nil
        timerDeadline = nil
        guard let context, let deadline = currentDeadline() else { return }
        if deadline.at <= .now() {
            let peer = context.channel.remoteAddress.map { "\($0)" } ?? "?"
            logger.debug("closing connection: \(deadline.reason)", metadata: ["peer": "\(peer)"])
            context.close(promise: nil)
        } else {
            arm()
        }
    }

    static func amount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(Int64(clamping: milliseconds(duration)) &* 1_000_000)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        // Ten years is forever here, and keeps every later conversion far from overflow.
        return min(seconds, 315_360_000) * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}

@available(*, unavailable)
extension ConnectionTimeoutHandler: Sendable {}
