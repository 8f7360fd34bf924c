import AsyncHTTPClient
import Crypto
import Foundation
import GlimpseCore
import GlimpseHTTP
import GlimpseStorage
import NIOCore

/// Image API 2.17 locations for http(s) URLs: `POST /v2/images/{id}/locations` records the URL and starts a
/// `location_import` task that ingests the data into Glimpse's own store, hashing it (Glance's `do_secure_hash`).
///
/// Status while ingesting follows Glance's location_import flow:
/// - with `validation_data`: `importing` until the data is in and its hash matched, then `active`; a mismatch or
///   any failure returns the image to `queued` with no hashes (the location stays, as with Glance's http store);
/// - without: `active` at once with `os_hash_algo` set (size, checksum and hash arrive when the data is in),
///   as Glance does; a failure returns the image to `queued`, since Glimpse then has no data for it.
extension ImageService {
    /// The hash algorithms `validation_data.os_hash_algo` accepts, with their digest sizes in bytes.
    static let locationHashAlgorithms: [String: Int] = ["md5": 16, "sha1": 20, "sha256": 32, "sha512": 64]

    struct LocationRequest: Sendable {
        var url: String
        /// `(os_hash_algo, os_hash_value)` when the caller gave validation data.
        var validation: (algo: String, value: String)?
        var validationJSON: JSONValue
    }

    /// The body's schema (glance `get_add_location_properties`): 400 on anything else.
    static func parseLocationRequest(_ body: [String: JSONValue]) throws -> LocationRequest {
        guard case .string(let url)? = body["url"], !url.isEmpty else {
            throw GlimpseError.badRequest("Add location request requires a 'url' string.")
        }
        var validation: (String, String)?
        var validationJSON = JSONValue.object([:])
        switch body["validation_data"] {
        case nil, .null?:
            break
        case .object(let v)?:
            validationJSON = .object(v)
            for key in v.keys where key != "os_hash_algo" && key != "os_hash_value" {
                throw GlimpseError.badRequest("Additional properties are not allowed ('\(key)' was unexpected) in validation_data.")
            }
            switch (v["os_hash_algo"], v["os_hash_value"]) {
            case (nil, nil):
                break
            case (.string(let algo)?, .string(let value)?):
                guard let size = locationHashAlgorithms[algo] else {
                    throw GlimpseError.badRequest(
                        "'\(algo)' is not one of ['sha1', 'sha256', 'sha512', 'md5'] (validation_data.os_hash_algo).")
                }
                guard value.count <= 128, value.count % 2 == 0, value.allSatisfy(\.isHexDigit) else {
                    throw GlimpseError.badRequest("os_hash_value (\(value)) is not a valid hexadecimal value")
                }
                guard value.count == size * 2 else {
                    throw GlimpseError.badRequest(
                        "os_hash_value: (\(value)) is not the correct size for (\(algo)) (should be (\(size)) bytes)")
                }
                validation = (algo, value.lowercased())
            case (nil, _?):
                throw GlimpseError.badRequest("'os_hash_algo' is a dependency of 'os_hash_value' (validation_data).")
            case (_?, nil):
                throw GlimpseError.badRequest("'os_hash_value' is a dependency of 'os_hash_algo' (validation_data).")
            default:
                throw GlimpseError.badRequest("validation_data.os_hash_algo and os_hash_value must be strings.")
            }
        default:
            throw GlimpseError.badRequest("'validation_data' must be an object.")
        }
        return LocationRequest(url: url, validation: validation, validationJSON: validationJSON)
    }

    /// `POST /v2/images/{id}/locations`: validates, records the location and a task, starts the ingest.
    @discardableResult
    public func addLocation(
        _ id: String, request body: [String: JSONValue], caller: Caller, requestID: String
    ) async throws -> ImageTask {
        let req = try Self.parseLocationRequest(body)
        let image = try await visibleImage(id, caller: caller)
        guard image.status == .queued else {
            throw GlimpseError.conflict("It's not allowed to add locations if image status is \(image.status.rawValue).")
        }
        try ImagePolicy.enforce(.addImageLocation, caller: caller, image: image)
        guard image.diskFormat != nil, image.containerFormat != nil else {
            throw GlimpseError.badRequest("Properties disk_format and container_format must be set prior to adding a location.")
        }
        let source: CheckedFetchTarget
        do {
            source = try await checkedFetchTarget(req.url)
        } catch let e as GlimpseError where e.kind == .badRequest {
            throw GlimpseError.badRequest(
                e.message.replacingOccurrences(of: "URI for web-download", with: "Location URL"))
        }

        let now = Self.now()
        let input = String(decoding: JSONWriter.encode(.object([
            "image_id": .string(image.id), "loc_url": .string(req.url), "validation_data": req.validationJSON,
        ])).readableBytesView, as: UTF8.self)
        let task = ImageTask(
            id: UUID().uuidString.lowercased(), type: "location_import", owner: caller.projectID, imageID: image.id,
            requestID: requestID, userID: caller.userID, input: input, createdAt: now, updatedAt: now,
            expiresAt: Timestamp(microseconds: now.microseconds + 48 * 3600 * 1_000_000))
        try await metadata.insertTask(task)
        let algo = req.validation?.algo ?? "sha512"
        try await claimWork(image.id)
        do {
            // The compare-and-set on `queued` is the lock: a concurrent add or upload gets 409.
            try await metadata.transition(id: image.id, from: [.queued], to: req.validation == nil ? .active : .importing) { img in
                img.properties["os_glance_import_task"] = task.id
                img.osHashAlgo = algo
                img.updatedAt = now
            }
        } catch {
            await releaseWork(image.id)
            _ = try? await metadata.updateTask(id: task.id) { t in
                t.status = .failure
                t.message = (error as? GlimpseError)?.message ?? String(describing: error)
            }
            throw error
        }
        let validation = req.validation
        do {
            try await metadata.addLocation(ImageLocation(url: req.url), imageID: image.id)
        } catch {
            await releaseWork(image.id)
            throw error
        }
        let work = Task { [self] in
            await runLocationImport(imageID: image.id, taskID: task.id, source: source, algo: algo, expected: validation?.value)
            await releaseWork(image.id)
        }
        trackImport(work)
        logger.info("image \(image.id): location \(source.url) added, task \(task.id)")
        return task
    }

    /// `GET /v2/images/{id}/locations` (policy `fetch_image_location`: service or admin).
    public func locations(_ id: String, caller: Caller) async throws -> [ImageLocation] {
        let image = try await visibleImage(id, caller: caller)
        try ImagePolicy.enforce(.fetchImageLocation, caller: caller, image: image)
        return try await metadata.locations(imageID: image.id)
    }

    /// The ingest: streams the URL through the upload pipeline, checks the hash, then sets the digests (and
    /// `active`). Stops soon after the image is deleted, leaving nothing behind.
    func runLocationImport(
        imageID: String, taskID: String, source: CheckedFetchTarget, algo: String, expected: String?
    ) async {
        _ = try? await metadata.updateTask(id: taskID) { t in
            t.status = .processing
            t.updatedAt = Self.now()
        }
        let metadata = self.metadata
        let stillWanted: @Sendable () async -> Bool = {
            guard let img = try? await metadata.image(id: imageID) else { return false }
            return img.properties["os_glance_import_task"] == taskID
        }
        do {
            let extra = ExtraDigest(algo)
            let response = try await fetchForImport(source, what: "Location")
            let image = try await metadata.image(id: imageID)
            let result = try await ingest(
                IngestBody(base: response.body, digest: extra, stillWanted: stillWanted), key: imageID,
                diskFormat: image?.diskFormat ?? "raw", containerFormat: image?.containerFormat, declaredSize: nil,
                announcedSize: response.announcedLength, charge: .project(image?.owner),
                sizeCapMessage: "Image exceeds the image size cap of \(limits.imageSizeCap) bytes.")
            defer { result.releaseQuota() }
            guard await stillWanted() else {
                try? await blobs.delete(key: imageID)
                throw IngestBody<FetchedBody>.abandoned
            }
            let hash = extra?.finish() ?? (algo == "md5" ? result.md5 : result.sha512)
            if let expected, expected != hash {
                throw GlimpseError.badRequest("os_hash_value: (\(expected)) not matched with actual os_hash_value: (\(hash))")
            }
            let virtualSize = result.virtualSize
            let now = Self.now()
            try await metadata.updateImage(id: imageID) { img in
                guard img.properties["os_glance_import_task"] == taskID,
                    [.importing, .active, .deactivated].contains(img.status)
                else { throw GlimpseError.conflict("Image \(imageID) changed during the location import.") }
                if img.status == .importing { img.status = .active }
                img.size = result.size
                img.checksum = result.md5
                img.osHashAlgo = algo
                img.osHashValue = hash
                img.virtualSize = virtualSize
                img.updatedAt = now
            }
            await markTaskSucceeded(taskID, imageID: imageID)
            logger.info("image \(imageID) ingested from its location: \(result.size) bytes")
        } catch {
            logger.warning("location import of image \(imageID) failed: \(error)")
            await failLocationImport(imageID: imageID, taskID: taskID, error: error)
        }
    }

    /// Removes the data, returns the image (if it still exists and is still this task's) to `queued` without
    /// hashes, and fails the task.
    func failLocationImport(imageID: String, taskID: String, error: any Error) async {
        let current = try? await metadata.image(id: imageID)
        if current?.properties["os_glance_import_task"] == taskID || current == nil {
            try? await blobs.delete(key: imageID)
        }
        _ = try? await metadata.updateImage(id: imageID) { img in
            guard img.properties["os_glance_import_task"] == taskID else { return }
            if img.status == .importing || img.status == .active || img.status == .deactivated { img.status = .queued }
            img.size = nil
            img.virtualSize = nil
            img.checksum = nil
            img.osHashAlgo = nil
            img.osHashValue = nil
            img.updatedAt = Self.now()
        }
        let message = (error as? GlimpseError)?.message ?? String(describing: error)
        _ = try? await metadata.updateTask(id: taskID) { t in
            guard t.status == .pending || t.status == .processing else { return }
            t.status = .failure
            t.message = message
            t.updatedAt = Self.now()
        }
    }

    /// After a restart: location imports that were running are failed (the image goes back to `queued`).
    func recoverLocationImports(inFlight: Set<String>, scope: RecoveryScope) async throws -> Int {
        var recovered = 0
        // A task whose image is not in flight either never got its image to `importing` (stale once older than a
        // lease) or was created after the in-flight images were read (young: left alone).
        let staleBefore = Self.now().microseconds - node.lease.components.seconds * 1_000_000
        for task in try await metadata.allTasks(limit: 10_000)
        where task.type == "location_import" && (task.status == .pending || task.status == .processing) {
            let imageID = task.imageID ?? ""
            let abandoned = inFlight.contains(imageID) ? scope.isAbandoned(imageID) : task.updatedAt.microseconds < staleBefore
            guard abandoned else { continue }
            recovered += 1
            if let imageID = task.imageID {
                await failLocationImport(
                    imageID: imageID, taskID: task.id, error: GlimpseError.internalError("The server restarted during the location import."))
            } else {
                _ = try await metadata.updateTask(id: task.id) { t in t.status = .failure }
            }
            logger.notice("location import task \(task.id) was interrupted by a restart")
        }
        return recovered
    }
}

/// A digest the upload pipeline does not compute itself (sha1, sha256); nil for md5 and sha512, which it does.
final class ExtraDigest: @unchecked Sendable {
    private enum State {
        case sha1(Insecure.SHA1)
        case sha256(SHA256)
    }
    private var state: State

    init?(_ algo: String) {
        switch algo {
        case "sha1": state = .sha1(Insecure.SHA1())
        case "sha256": state = .sha256(SHA256())
        default: return nil
        }
    }

    /// Called by one iterator, strictly in order.
    func update(_ b: ByteBuffer) {
        b.withUnsafeReadableBytes { p in
            switch state {
            case .sha1(var h):
                h.update(bufferPointer: p)
                state = .sha1(h)
            case .sha256(var h):
                h.update(bufferPointer: p)
                state = .sha256(h)
            }
        }
    }

    func finish() -> String {
        switch state {
        case .sha1(let h): Digests.hex(h.finalize())
        case .sha256(let h): Digests.hex(h.finalize())
        }
    }
}

/// The location's bytes on their way to the pipeline: feeds the extra digest, and about once a second checks that
/// the image still wants them (it may have been deleted), to stop a long download early.
struct IngestBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    static var abandoned: GlimpseError { .conflict("The image was deleted during the location import.") }

    let base: Base
    let digest: ExtraDigest?
    let stillWanted: @Sendable () async -> Bool

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let digest: ExtraDigest?
        let stillWanted: @Sendable () async -> Bool
        var lastCheck = ContinuousClock.now

        mutating func next() async throws -> ByteBuffer? {
            if ContinuousClock.now - lastCheck > .seconds(1) {
                lastCheck = ContinuousClock.now
                guard await stillWanted() else { throw IngestBody.abandoned }
            }
            guard let b = try await base.next() else { return nil }
            digest?.update(b)
            return b
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), digest: digest, stillWanted: stillWanted)
    }
}
