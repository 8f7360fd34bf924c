// The HTTP/1.1 listener's per-connection pipeline: the handlers Glimpse adds below Hummingbird's request handling
// (100-continue, sendfile, connection timeouts) and the listener-wide connection cap they share.

import GlimpseHTTP
import Hummingbird
import HummingbirdCore
import Logging

enum ListenerWiring {
    static func http1Configuration(_ config: GlimpseConfiguration, logger: Logger) -> HTTP1Channel.Configuration {
        let openFileLimit = OpenFileLimit.current()
        let maximum = config.maxConnections ?? OpenFileLimit.defaultMaximumConnections(openFileLimit: openFileLimit)
        let limiter = ConnectionLimiter(maximum: maximum, logger: logger)
        let timeouts = config.connectionTimeouts
        logger.info(
            """
            connections: at most \(limiter.maximum) open (open-file limit \(openFileLimit.map(String.init) ?? "unknown")); \
            timeouts: idle \(timeouts.idle), request head \(timeouts.requestHead), body stall \(timeouts.bodyStall), \
            send \(timeouts.send)
            """)
        return .init(additionalChannelHandlers: [
            ConnectionTimeoutHandler(timeouts: timeouts, limiter: limiter, logger: logger),
            ExpectContinueHandler(), SendfileInstaller(),
        ])
    }
}
