import Foundation
import GlimpseCore
import GlimpseImageAPI
import GlimpseStorage

extension ServerService {
    /// Properties Nova never copies from the base image to a snapshot (compute/utils.py NON_INHERITABLE_IMAGE_PROPERTIES,
    /// the default `non_inheritable_image_properties`, and SM_SKIP_KEYS).
    static let nonInheritable: Set<String> = [
        "cinder_encryption_key_id", "cinder_encryption_key_deletion_policy", "img_signature",
        "img_signature_hash_method", "img_signature_key_type", "img_signature_certificate_uuid", "cache_in_nova",
        "bittorrent", "mappings", "block_device_mapping",
    ]
    /// System-metadata image keys that are image attributes, not properties (SM_INHERITABLE_KEYS).
    static let inheritableAttributes: Set<String> = ["min_ram", "min_disk", "disk_format", "container_format"]

    /// The image metadata Nova builds for a snapshot (compute/utils.py `create_image` and
    /// `initialize_instance_snapshot_metadata`): the base image's properties from system metadata, owner names and
    /// boot roles, then instance_uuid, user_id, image_type, then the request's metadata; formats left out.
    static func snapshotBody(
        server s: ServerRecord, name: String, metadata: [String: String], caller: Caller
    ) -> [String: JSONValue] {
        var props: [String: String] = [:]
        for (k, v) in s.systemMetadata {
            if k.hasPrefix("image_") {
                let key = String(k.dropFirst(6))
                if inheritableAttributes.contains(key) { continue }
                props[key] = v
            } else {
                props[k] = v
            }
        }
        props["instance_uuid"] = s.id
        props["user_id"] = caller.userID
        props["image_type"] = "snapshot"
        for k in Array(props.keys) where nonInheritable.contains(k) || k.hasPrefix("os_glance") { props[k] = nil }
        for (k, v) in metadata { props[k] = v }

        var body: [String: JSONValue] = [:]
        for (k, v) in props { body[k] = .string(v) }
        body["name"] = .string(name)
        body["visibility"] = .string(caller.actsFor(s.projectID) ? "private" : "shared")
        body["min_ram"] = .int(Int64(s.systemMetadata["image_min_ram"] ?? "") ?? 0)
        body["min_disk"] = .int(Int64(s.systemMetadata["image_min_disk"] ?? "") ?? s.flavor.disk)
        return body
    }

    /// `createImage`: checks the state, decides the consistency (409 when the image requires a quiesce that cannot
    /// happen), creates the queued image as the requester, marks the server `image_snapshot_pending` and starts the
    /// snapshot in the background. Returns the new image's id.
    public func createImage(
        _ id: String, name: String, metadata: [String: String], caller: Caller
    ) async throws -> String {
        let s = try await server(id, caller: caller)
        try ComputePolicy.enforce("os_compute_api:servers:create_image", ComputePolicy.canWrite(caller))
        try ServerRules.checkSnapshot(s)

        let ds = driverServer(s)
        let planned: SnapshotConsistency
        let requireQuiesce = ServerRules.isTrue(s.systemMetadata["image_os_require_quiesce"])
        if s.powerState != .running {
            planned = .cold
        } else if await driver.canQuiesce(ds) {
            planned = .quiesced
        } else if requireQuiesce {
            throw GlimpseError.conflict(
                "Failed to quiesce instance: instance \(s.id) is running, its image requires quiesce (os_require_quiesce) and the \(driver.name) driver cannot reach a guest agent. Stop the server for a cold snapshot.")
        } else {
            planned = .crash
        }

        let image = try await images.create(Self.snapshotBody(server: s, name: name, metadata: metadata, caller: caller), caller: caller)
        do {
            if image.visibility == .shared { _ = try await images.addMember(image.id, member: s.projectID, caller: caller) }
            _ = try await store.updateServer(id: s.id) {
                try ServerRules.checkSnapshot($0)
                $0.taskState = TaskState.imageSnapshotPending
                $0.snapshotImageID = image.id
                $0.updatedAt = NovaTime.now()
            }
        } catch {
            await discardSnapshotImage(image.id)
            throw error
        }
        logger.info("server \(s.id): snapshot into image \(image.id) (\(planned.rawValue)) started")
        await tasks.run(s.id) { [self] in
            await self.snapshot(s.id, imageID: image.id, planned: planned, requireQuiesce: requireQuiesce, caller: caller)
        }
        return image.id
    }

    func setTask(_ id: String, _ task: TaskState, imageID: String) async throws {
        _ = try await store.updateServer(id: id) {
            guard $0.snapshotImageID == imageID, $0.taskState?.isSnapshotStep == true else {
                throw CancellationError()
            }
            $0.taskState = task
            $0.updatedAt = NovaTime.now()
        }
    }

    /// The background half (compute manager `snapshot_instance` + libvirt `snapshot`): image_snapshot (freeze if
    /// planned) → image_pending_upload (metadata, flattened copy into a temporary file) → image_uploading (stream
    /// into the image store) → None. Any failure deletes the image and clears the task state.
    func snapshot(_ id: String, imageID: String, planned: SnapshotConsistency, requireQuiesce: Bool, caller: Caller) async {
        let format = snapshotFormat
        let temp = "\(scratch)/snap-\(imageID).\(format)"
        defer { try? FileManager.default.removeItem(atPath: temp) }
        var frozen = false
        var frozeAt: ContinuousClock.Instant?
        do {
            try await setTask(id, TaskState.imageSnapshot, imageID: imageID)
            guard let s = try await store.server(id: id), let disk = s.diskPath else {
                throw HypervisorError(.failed, "server \(id) has no root disk")
            }
            let ds = driverServer(s)
            var consistency = planned
            if planned == .quiesced {
                do {
                    frozeAt = .now
                    try await driver.quiesce(ds)
                    frozen = true
                } catch {
                    if requireQuiesce { throw error }
                    logger.warning("server \(id): quiesce failed, the snapshot is crash-consistent: \(Self.describe(error))")
                    consistency = .crash
                }
            }
            try await setTask(id, TaskState.imagePendingUpload, imageID: imageID)
            let patch: [(String, String)] = [
                ("disk_format", format),
                ("container_format", s.systemMetadata["image_container_format"] ?? "bare"),
                ("image_location", "snapshot"),
                ("image_state", "available"),
                ("owner_id", s.projectID),
                ("glimpse_consistency", consistency.rawValue),
            ]
            let ops = try ImageRules.parsePatch(
                .array(patch.map { .object(["op": .string("add"), "path": .string("/" + $0.0), "value": .string($0.1)]) }))
            _ = try await images.update(imageID, patch: ops, caller: caller)
            // A running guest's disk is copied at one instant by the driver (when it can), so the filesystems
            // thaw as soon as that instant is fixed instead of staying frozen for the whole export.
            let copy = "\(scratch)/snap-\(imageID).copy.qcow2"
            defer { try? FileManager.default.removeItem(atPath: copy) }
            var source = disk
            do {
                if planned != .cold, try await driver.beginPointInTimeCopy(ds, disk: disk, to: copy) {
                    if frozen {
                        frozen = false
                        try await driver.unquiesce(ds)
                        if let at = frozeAt { logger.notice("server \(id): filesystems frozen for \(ContinuousClock.now - at) for snapshot \(imageID)") }
                    }
                    try await driver.finishPointInTimeCopy(ds)
                    source = copy
                }
                try await driver.exportDisk(ds, disk: source, format: format, to: temp)
            } catch {
                if frozen { try? await driver.unquiesce(ds) }
                throw error
            }
            if frozen {
                frozen = false
                try await driver.unquiesce(ds)
            }
            try await setTask(id, TaskState.imageUploading, imageID: imageID)
            let size = (try FileManager.default.attributesOfItem(atPath: temp)[.size] as? NSNumber)?.int64Value
            let active = try await images.upload(imageID, body: FileChunks(path: temp), declaredSize: size, caller: caller)
            _ = try await store.updateServer(id: id) {
                guard $0.snapshotImageID == imageID else { return }
                $0.taskState = nil
                $0.snapshotImageID = nil
                $0.updatedAt = NovaTime.now()
            }
            logger.info("server \(id): snapshot image \(imageID) is active (\(active.size ?? 0) bytes, \(format), \(consistency.rawValue))")
        } catch {
            let cancelled = error is CancellationError || Task.isCancelled
            if cancelled {
                logger.notice("server \(id): snapshot into image \(imageID) cancelled")
            } else {
                logger.error("server \(id): snapshot into image \(imageID) failed: \(Self.describe(error))")
            }
            // Clean up outside the (possibly cancelled) task: store and image calls refuse to run when cancelled.
            let store = self.store
            await Task { [self] in await self.discardSnapshotImage(imageID) }.value
            _ = await Task { try? await store.updateServer(id: id) {
                guard $0.snapshotImageID == imageID else { return }
                if $0.taskState?.isSnapshotStep == true { $0.taskState = nil }
                $0.snapshotImageID = nil
                if !cancelled {
                    $0.faultMessage = "Snapshot of instance \(id) failed: \(Self.describe(error))"
                    $0.faultCode = 500
                    $0.faultAt = NovaTime.now()
                }
                $0.updatedAt = NovaTime.now()
            } }.value
        }
    }

    /// Deletes a snapshot's image unless it already became active (Nova's `delete_image_on_error`).
    func discardSnapshotImage(_ imageID: String) async {
        do {
            let image = try await images.visibleImage(imageID, caller: Self.systemCaller)
            guard image.status != .active else { return }
            try await images.delete(imageID, caller: Self.systemCaller)
            logger.notice("deleted the unfinished snapshot image \(imageID)")
        } catch let e as GlimpseError where e.kind == .notFound {
        } catch {
            logger.error("could not delete the unfinished snapshot image \(imageID): \(Self.describe(error))")
        }
    }

    // MARK: recovery

    /// Start-up: finishes or undoes what a stop of Glimpse interrupted, as Nova's compute manager `_init_instance`
    /// does: interrupted snapshots lose their image and their task state; interrupted builds end in ERROR; power
    /// actions complete; deletions finish. Then temporary files and unused base files go.
    public func recover() async throws {
        let startedAt = Timestamp(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
        // A qemu-img that outlived the previous Glimpse may still be writing into the scratch directory: end it
        // (and wait) before anything there is removed.
        let helpersGone = await HelperProcesses.endLeftovers(scratch: scratch, logger: logger)
        for var s in try await store.servers(projectID: nil) where runsHere(s) {
            if let image = s.snapshotImageID {
                await discardSnapshotImage(image)
                logger.notice("server \(s.id): a snapshot into image \(image) was interrupted; image deleted, task cleared")
            }
            let task = s.taskState
            s = try await store.updateServer(id: s.id) { ServerRules.settleAfterRestart(&$0, now: NovaTime.now()) }
            if task != s.taskState { logger.notice("server \(s.id): task \(task?.rawValue ?? "None") interrupted by a restart, now vm_state \(s.vmState.rawValue)") }
            if s.taskState == TaskState.deleting {
                try await finishDelete(s.id)
                continue
            }
            await driver.adopt(driverServer(s), disk: s.diskPath, powerState: s.powerState)
        }
        try await discardOrphanSnapshotImages(createdBefore: startedAt)
        if helpersGone {
            // Pid files left now belong to QEMUs `adopt` just started (the old ones went with `endLeftovers`).
            for name in (try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []
            where !name.hasPrefix(HelperProcesses.prefix) {
                try? FileManager.default.removeItem(atPath: "\(scratch)/\(name)")
            }
        }
        await cache.cleanUp()
    }

    /// Start-up: `createImage` creates the image before the server records it, so a crash in between leaves a
    /// queued snapshot image no server knows. Such an image (image_type=snapshot, its instance_uuid one of this
    /// service's servers, which does not reference it, created before this start) is deleted. Snapshots of servers
    /// this service does not know (another Nova using Glimpse as its image service) are left alone.
    func discardOrphanSnapshotImages(createdBefore start: Timestamp) async throws {
        var servers: [String: ServerRecord] = [:]
        for s in try await store.servers(projectID: nil) where runsHere(s) { servers[s.id] = s }
        for image in try await images.metadata.images(inStatus: .queued) {
            guard image.properties["image_type"] == "snapshot", let uuid = image.properties["instance_uuid"],
                let server = servers[uuid], server.snapshotImageID != image.id, image.createdAt < start
            else { continue }
            await discardSnapshotImage(image.id)
            logger.notice("server \(uuid): deleted snapshot image \(image.id), which a restart left unrecorded")
        }
    }
}
