import GlimpseCore
import GlimpseStorage

/// Work claims and recovery among several nodes: an upload, stage or import claims its image before the image
/// leaves `queued`, and releases it once the image has settled; recovery undoes only work whose claim belongs to a
/// dead node (or, at start, to this node before its restart).
extension ImageService {
    /// Runs `body` with this node's claim on the image, released whatever happens.
    func withWorkClaim<T: Sendable>(_ id: String, _ body: () async throws -> T) async throws -> T {
        try await claimWork(id)
        do {
            let result = try await body()
            await releaseWork(id)
            return result
        } catch {
            await releaseWork(id)
            throw error
        }
    }

    func claimWork(_ id: String) async throws {
        try await metadata.claimWork(imageID: id, node: node.nodeID)
    }

    func releaseWork(_ id: String) async {
        do {
            try await metadata.releaseWork(imageID: id, node: node.nodeID)
        } catch {
            // A claim left behind only makes this node's next start recover an image that is settled already.
            logger.warning("image \(id): the work claim of node \(node.nodeID) could not be released: \(error)")
        }
    }

    /// A hold on the project's quota that counts what is stored and what every node's writers hold: with a shared
    /// store this node publishes its writers' holds and reads the other live nodes' ones.
    func sharedQuotaReservation(owner: String, quota: Int64) -> QuotaReservation {
        let metadata = self.metadata
        guard node.sharesStore else {
            return QuotaReservation(
                ledger: quotaLedger, owner: owner, quota: quota, usage: { try await metadata.storageUsed(byOwner: $0) })
        }
        let nodeID = node.nodeID
        let lease = node.lease
        return QuotaReservation(
            ledger: quotaLedger, owner: owner, quota: quota,
            usage: { owner in
                let aliveSince = Timestamp(microseconds: Self.now().microseconds - lease.components.seconds * 1_000_000)
                let others = try await metadata.quotaHeldByOtherNodes(project: owner, node: nodeID, aliveSince: aliveSince)
                return try await metadata.storageUsed(byOwner: owner) + others
            },
            publish: { owner, bytes, version in
                try await metadata.publishQuotaHold(project: owner, node: nodeID, bytes: bytes, version: version)
            })
    }

    /// Records that this node is alive.
    public func heartbeat() async throws {
        let address = advertisedAddress.withLock { $0 }
        try await metadata.heartbeat(NodeLease(node: node.nodeID, address: address, heartbeatAt: Self.now()))
    }

    /// Announces where the other nodes reach this node from now on (once the listener is bound to its port).
    public func advertise(address: String) async throws {
        advertisedAddress.withLock { $0 = address }
        try await heartbeat()
    }

    /// The node's lease when its heartbeat is recent enough for it to be alive; nil otherwise.
    public func liveNode(_ id: String) async throws -> NodeLease? {
        let leaseMicros = node.lease.components.seconds * 1_000_000
        let now = Self.now().microseconds
        return try await metadata.nodeLeases().first { $0.node == id && now - $0.heartbeatAt.microseconds <= leaseMicros }
    }

    /// Removes from this node's image cache the copies of images deleted (or emptied) on another node, so that a
    /// deleted image's data is gone from every node within one sweep; a delete on this node removes its copy at once.
    /// Returns how many copies went.
    @discardableResult
    public func pruneCachedCopiesOfDeletedImages() async throws -> Int {
        guard let cache else { return 0 }
        let (cached, queued) = cache.contents()
        var removed = 0
        for id in cached.map(\.imageID) + queued {
            guard let image = try await metadata.image(id: id), image.status.hasData else {
                await cache.remove(id)
                removed += 1
                logger.notice("image cache: removed the copy of image \(id), deleted on another node")
                continue
            }
        }
        return removed
    }

    /// The other nodes alive now, by their leases.
    public func livePeers() async throws -> [NodeLease] {
        let leaseMicros = node.lease.components.seconds * 1_000_000
        let now = Self.now().microseconds
        return try await metadata.nodeLeases().filter {
            $0.node != node.nodeID && now - $0.heartbeatAt.microseconds <= leaseMicros
        }
    }

    /// Which unfinished work may be recovered now: images read before claims (a claim is made before its image
    /// leaves `queued`, so every in-flight image read here has its claim in the later read).
    struct RecoveryScope: Sendable {
        var claims: [String: String]
        var deadNodes: Set<String>
        var ownNode: String
        var atStart: Bool

        /// True when nobody alive works on the image: no claim (work of a version without claims, or settled
        /// work), a dead node's claim, or, at start, this node's own claim from before the restart.
        func isAbandoned(_ imageID: String) -> Bool {
            guard let owner = claims[imageID] else { return true }
            if owner == ownNode { return atStart }
            return deadNodes.contains(owner)
        }
    }

    func recoveryScope(atStart: Bool) async throws -> RecoveryScope {
        let claims = try await metadata.workClaims()
        let now = Self.now()
        let leaseMicros = node.lease.components.seconds * 1_000_000
        var dead = Set<String>()
        var alive = Set<String>()
        for lease in try await metadata.nodeLeases() where lease.node != node.nodeID {
            if now.microseconds - lease.heartbeatAt.microseconds > leaseMicros { dead.insert(lease.node) } else { alive.insert(lease.node) }
        }
        // A claim by a node that never heartbeat (its lease row is gone) is as dead as an expired one.
        for owner in Set(claims.values) where owner != node.nodeID && !alive.contains(owner) { dead.insert(owner) }
        return RecoveryScope(claims: claims, deadNodes: dead, ownNode: node.nodeID, atStart: atStart)
    }

    /// Undoes the unfinished work of nodes that died (run periodically by every node); returns the images it
    /// recovered. Also removes the dead nodes' half-written data.
    @discardableResult
    public func recoverDeadNodes() async throws -> Int {
        let inFlight = try await inFlightImageIDs()
        let scope = try await recoveryScope(atStart: false)
        let recovered = try await recoverInterruptedWork(inFlight: inFlight, scope: scope)
        for dead in scope.deadNodes {
            let removed = try await blobs.removeIncomplete(ofWriter: dead)
            if removed > 0 { logger.notice("removed \(removed) incomplete upload(s) of dead node \(dead)") }
        }
        return recovered
    }

    func inFlightImageIDs() async throws -> Set<String> {
        var ids = Set<String>()
        for status in [ImageStatus.saving, .uploading, .importing] {
            for image in try await metadata.images(inStatus: status) { ids.insert(image.id) }
        }
        return ids
    }

    /// Puts abandoned in-flight images back where their work started and releases the abandoned claims.
    func recoverInterruptedWork(inFlight: Set<String>, scope: RecoveryScope) async throws -> Int {
        var recovered = 0
        for image in try await metadata.images(inStatus: .saving)
        where inFlight.contains(image.id) && scope.isAbandoned(image.id) {
            if (try? await metadata.transition(id: image.id, from: [.saving], to: .queued)) != nil {
                recovered += 1
                logger.notice("image \(image.id) was being uploaded when its node (\(scope.claims[image.id] ?? "unknown")) stopped; it is queued again")
            }
        }
        recovered += try await recoverLocationImports(inFlight: inFlight, scope: scope)
        recovered += try await recoverImports(inFlight: inFlight, scope: scope)
        recovered += try await recoverStaging(inFlight: inFlight, scope: scope)
        for (imageID, owner) in scope.claims where scope.isAbandoned(imageID) {
            try await metadata.releaseWork(imageID: imageID, node: owner)
        }
        return recovered
    }
}
