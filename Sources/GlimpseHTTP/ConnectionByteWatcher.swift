// Sits in front of the HTTP decoder, where a connection's bytes are still raw, and tells its
// ConnectionTimeoutHandler that the client sent something. Only raw bytes show a request head that has begun but is
// not complete (no HTTP part exists yet), which is what separates an idle kept-alive connection from a slow head.

import NIOCore

final class ConnectionByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Both handlers live on the connection's event loop and are removed together when it closes.
    private let owner: ConnectionTimeoutHandler

    init(owner: ConnectionTimeoutHandler) { self.owner = owner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        owner.clientSentBytes()
        context.fireChannelRead(data)
    }
}
