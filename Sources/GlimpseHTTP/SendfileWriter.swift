import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Below Hummingbird's HTTP codec: replaces the empty body of a response that carries `SendfileRegistry.header`
/// with the registered file region, which NIO writes with `sendfile(2)`.
final class SendfileWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: SendfileRegistry
    private var pending: SendfileRegistry.Entry?
    private var lost = false

    init(registry: SendfileRegistry) { self.registry = registry }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            if let token = head.headers.first(name: SendfileRegistry.header) {
                head.headers.remove(name: SendfileRegistry.header)
                pending = registry.take(token)
                lost = pending == nil
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            if lost {
                // The head promised a length we can no longer send: ending the connection is the only honest answer.
                lost = false
                promise?.fail(ChannelError.ioOnClosedChannel)
                context.close(promise: nil)
                return
            }
            if let entry = pending {
                pending = nil
                let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: entry.descriptor)
                let region = FileRegion(
                    fileHandle: handle, readerIndex: Int(entry.range.lowerBound), endIndex: Int(entry.range.upperBound))
                let sent = context.eventLoop.makePromise(of: Void.self)
                sent.futureResult.whenComplete { _ in try? handle.close() }
                context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: sent)
            }
            context.write(data, promise: promise)
        }
    }
}

/// Added with Hummingbird's `additionalChannelHandlers`; it puts a `SendfileWriter` below the HTTP codec, where
/// bodies are still `IOData` and may be file regions. It passes everything else through untouched.
public final class SendfileInstaller: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = NIOAny
    let registry: SendfileRegistry

    public init(registry: SendfileRegistry = .shared) { self.registry = registry }

    public func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        if let codec = try? pipeline.handler(type: HTTP1ToHTTPServerCodec.self) {
            try? pipeline.addHandler(SendfileWriter(registry: registry), position: .before(codec))
        }
    }
}
