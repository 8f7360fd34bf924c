// The node's background duties beside the listener: heartbeat, dead-node recovery, cache pruning, garbage collection.
import GlimpseImageAPI
import Logging
import ServiceLifecycle

/// Keeps this node's lease alive (a heartbeat three times per lease) and, once per lease, recovers what dead
/// nodes left unfinished and drops cached copies of images deleted on other nodes. About every
/// `collectionInterval` it also garbage-collects unowned image data. Runs beside the listener until shutdown.
struct NodeHeartbeatService: Service {
    let images: ImageService
    let collectionInterval: Duration
    let logger: Logger

    func run() async throws {
        let interval = images.node.lease / 3
        let clock = ContinuousClock()
        try? await cancelWhenGracefulShutdown {
            var beats = 0
            var nextCollection = clock.now + Self.jittered(collectionInterval)
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                beats += 1
                do {
                    try await images.heartbeat()
                    if beats % 3 == 0 {
                        try await images.recoverDeadNodes()
                        if images.node.sharesStore { try await images.pruneCachedCopiesOfDeletedImages() }
                    }
                    if clock.now >= nextCollection {
                        nextCollection = clock.now + Self.jittered(collectionInterval)
                        try await images.collectOrphanData()
                    }
                } catch is CancellationError {
                    return
                } catch {
                    // The database may be away for a moment; the lease is long enough to miss a beat.
                    logger.warning("node \(images.node.nodeID): heartbeat failed: \(error)")
                }
            }
        }
    }

    /// 75–125 % of `interval`: nodes started together do not list the store all at the same moment.
    static func jittered(_ interval: Duration) -> Duration {
        interval * Double.random(in: 0.75...1.25)
    }
}
