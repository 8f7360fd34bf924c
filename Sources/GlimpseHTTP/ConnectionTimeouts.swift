// How long the listener waits on a client before it closes the connection. Each limit bounds one way a client can
// hold a connection (and its file descriptor) without making progress; together they leave no state in which a
// connection can stay open forever on the client's say-so.

/// The per-connection waiting limits (see `glimpse serve --help` for the defaults and their reasons).
public struct ConnectionTimeouts: Sendable, Equatable {
    /// A kept-alive connection between requests, with no byte of a next request received.
    public var idle: Duration
    /// From connecting (or from the first byte of a next request on a kept-alive connection) to a complete request
    /// head: bounds connections that never send a byte and heads sent a byte at a time.
    public var requestHead: Duration
    /// While a request body is still expected and the server is ready to read it: no byte for this long ends the
    /// connection, and with it the request (a stalled upload fails and its image returns to `queued`).
    public var bodyStall: Duration
    /// Response data the client does not acknowledge for this long (it stopped reading, or vanished) ends the
    /// connection. Enforced by the kernel (TCP_USER_TIMEOUT), which sees acknowledgements a handler cannot: a slow
    /// reader that keeps acknowledging is never cut off, however long its download takes.
    public var send: Duration

    public init(
        idle: Duration = .seconds(120), requestHead: Duration = .seconds(30), bodyStall: Duration = .seconds(120),
        send: Duration = .seconds(120)
    ) {
        self.idle = idle
        self.requestHead = requestHead
        self.bodyStall = bodyStall
        self.send = send
    }
}
