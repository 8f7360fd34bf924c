// `glimpse admin gc`: one garbage-collection sweep of image data, outside any node, on the stores `serve` uses.
import Foundation
import GlimpseCore
import GlimpseImageAPI
import GlimpseStorage
import Logging

/// Opens the stores the configuration names (as `glimpse serve` would) and sweeps them once as an operator: no
/// node's writes are this run's own, so only the node leases say which writes are still being made.
public enum OrphanDataCollection {
    public static func run(
        _ config: GlimpseConfiguration, grace: Duration, dryRun: Bool, logger: Logger
    ) async throws -> OrphanDataReport {
        let stores = try await StoreWiring.open(config, logger: logger)
        let sweep = OrphanDataSweep(
            metadata: stores.metadata, blobs: stores.blobs, lease: NodeMembership.single.lease, grace: grace)
        let now = Timestamp(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
        return try await sweep.run(node: nil, dryRun: dryRun, now: now)
    }
}
