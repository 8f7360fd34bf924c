import HTTPTypes

/// What marks a request one Glimpse node passes on to another (a server action sent to the server's node, a cache
/// change repeated on every node): the receiving node acts on it itself and never passes it on again.
public enum PeerRequest {
    /// Names the node that passed the request on.
    public static let forwardedBy = HTTPField.Name("X-Glimpse-Forwarded-By")!
    /// Headers that belong to one connection, never copied onto another.
    public static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host",
        "content-length", "date", "server",
    ]
}
