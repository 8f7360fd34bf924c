import AsyncHTTPClient
import Foundation
import GlimpseCore
import GlimpseHTTP
import GlimpseStorage
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Which import methods are on, and where `web-download` may fetch from (Glance's `[import_filtering_opts]`).
public struct ImportOptions: Sendable {
    public var methods: [String]
    public var allowedSchemes: Set<String>
    /// Ports `web-download` and http locations may connect to (a URL without a port means 80 or 443).
    public var allowedPorts: Set<Int>
    /// When non-empty, the only hosts `web-download` and http locations may fetch from, matched exactly against the
    /// URL's host (case-insensitive; IPv6 without brackets), and trusted: their addresses are not checked. When
    /// empty, any host whose every resolved address is public (see `OutboundFetchPolicy`).
    public var allowedHosts: Set<String>

    public init(
        methods: [String] = ["glance-direct", "web-download"], allowedSchemes: Set<String> = ["http", "https"],
        allowedPorts: Set<Int> = [80, 443], allowedHosts: Set<String> = []
    ) {
        self.methods = methods
        self.allowedSchemes = allowedSchemes
        self.allowedPorts = allowedPorts
        self.allowedHosts = allowedHosts
    }
}

/// Glance's interoperable image import: `PUT /stage` keeps data aside (status `uploading`), `POST /import` starts a
/// task that moves it (or a web download) into the store in the background (status `importing`, then `active`).
extension ImageService {
    /// Records a finished import or location ingest on its task; a lost task record never fails the image.
    func markTaskSucceeded(_ taskID: String, imageID: String) async {
        _ = try? await metadata.updateTask(id: taskID) { t in
            t.status = .success
            t.result = #"{"image_id": "\#(imageID)"}"#
            t.updatedAt = Self.now()
        }
    }

    static func stagingKey(_ id: String) -> String { id + ".staging" }

    /// Streams data into the staging area: queued → uploading, or back to queued with nothing kept.
    public func stage<Body: AsyncSequence & Sendable>(
        _ id: String, body: Body, declaredSize: Int64?, caller: Caller
    ) async throws where Body.Element == ByteBuffer {
        guard importOptions.methods.contains("glance-direct") else {
            throw GlimpseError.notFound("The glance-direct import method is not enabled.")
        }
        let image = try await ownedImage(id, caller: caller, for: .uploadImage)
        guard image.status == .queued else { throw image.status.transitionError(to: .uploading) }
        if let declaredSize, declaredSize > limits.imageSizeCap {
            throw GlimpseError.tooLarge("Image exceeds the image size cap of \(limits.imageSizeCap) bytes.")
        }
        try await withWorkClaim(image.id) { try await stageClaimed(image, body: body, declaredSize: declaredSize) }
    }

    private func stageClaimed<Body: AsyncSequence & Sendable>(
        _ image: Image, body: Body, declaredSize: Int64?
    ) async throws where Body.Element == ByteBuffer {
        try await metadata.transition(id: image.id, from: [.queued], to: .uploading) { $0.updatedAt = Self.now() }
        do {
            let data = try await ingest(
                body, key: Self.stagingKey(image.id), diskFormat: nil, declaredSize: declaredSize,
                charge: .project(image.owner),
                sizeCapMessage: "Image exceeds the image size cap of \(limits.imageSizeCap) bytes.")
            defer { data.releaseQuota() }
            // Staged bytes are the project's storage (as Glance records the staged size): quota counts them.
            _ = try await metadata.updateImage(id: image.id) { img in
                guard img.status == .uploading else {
                    throw GlimpseError.conflict("Image \(image.id) changed while its data was being staged.")
                }
                img.size = data.size
            }
        } catch {
            try? await blobs.delete(key: Self.stagingKey(image.id))
            _ = try? await metadata.transition(id: image.id, from: [.uploading], to: .queued) { $0.size = nil }
            throw Self.uploadError(error)
        }
    }

    /// `POST /v2/images/{id}/import`: validates the request, records a task and starts it. Returns the task.
    public func startImport(
        _ id: String, request body: [String: JSONValue], caller: Caller, requestID: String
    ) async throws -> ImageTask {
        guard case .object(let method)? = body["method"] else {
            throw GlimpseError.badRequest("Import request requires a 'method' field.")
        }
        guard case .string(let name)? = method["name"] else {
            throw GlimpseError.badRequest("Import request requires a 'name' field in 'method'.")
        }
        guard importOptions.methods.contains(name) else {
            throw GlimpseError.badRequest("Import method \(name) is not valid; enabled methods: \(importOptions.methods.joined(separator: ", ")).")
        }
        if case .array(let stores)? = body["stores"] {
            for case .string(let s) in stores where s != "local" {
                throw GlimpseError.conflict("Store \(s) is not valid for this image import.")
            }
        }
        let image = try await ownedImage(id, caller: caller, for: .modifyImage)
        var source: CheckedFetchTarget?
        switch name {
        case "glance-direct":
            guard image.status == .uploading else {
                throw GlimpseError.conflict("Image needs to be staged before 'glance-direct' method can be used")
            }
        case "web-download":
            guard image.status == .queued else {
                throw GlimpseError.conflict("Image needs to be in 'queued' state to use 'web-download' method")
            }
            guard case .string(let uri)? = method["uri"] else {
                throw GlimpseError.badRequest("URI for web-download does not pass filtering: no 'uri' given.")
            }
            source = try await webDownloadSource(uri)
        default:
            throw GlimpseError.badRequest("Import method \(name) is not valid.")
        }
        guard image.diskFormat != nil, image.containerFormat != nil else {
            throw GlimpseError.badRequest("'disk_format' needs to be set before import")
        }

        let now = Self.now()
        let input = String(decoding: JSONWriter.encode(.object([
            "image_id": .string(image.id), "import_req": .object(body), "backend": .array([.string("local")]),
        ])).readableBytesView, as: UTF8.self)
        let task = ImageTask(
            id: UUID().uuidString.lowercased(), owner: caller.projectID, imageID: image.id, requestID: requestID,
            userID: caller.userID, input: input, createdAt: now, updatedAt: now,
            expiresAt: Timestamp(microseconds: now.microseconds + 48 * 3600 * 1_000_000))
        try await metadata.insertTask(task)
        let from: Set<ImageStatus> = name == "glance-direct" ? [.uploading] : [.queued]
        try await claimWork(image.id)
        do {
            try await metadata.transition(id: image.id, from: from, to: .importing) { img in
                img.properties["os_glance_import_task"] = task.id
                img.properties["os_glance_importing_to_stores"] = "local"
                img.properties["os_glance_failed_import"] = ""
                img.updatedAt = now
            }
        } catch {
            await releaseWork(image.id)
            throw error
        }
        let work = Task { [self] in
            await runImport(imageID: image.id, taskID: task.id, method: name, source: source, caller: caller)
            await releaseWork(image.id)
        }
        trackImport(work)
        return task
    }

    /// The web-download URI checked by the outbound-fetch policy (scheme, port, host, resolved addresses):
    /// 400 "URI for web-download does not pass filtering: ..." before anything connects.
    func webDownloadSource(_ uri: String) async throws -> CheckedFetchTarget {
        try await checkedFetchTarget(uri)
    }

    func runImport(imageID: String, taskID: String, method: String, source: CheckedFetchTarget?, caller: Caller) async {
        _ = try? await metadata.updateTask(id: taskID) { t in
            t.status = .processing
            t.updatedAt = Self.now()
        }
        do {
            let data: IngestedData
            let target = try await metadata.image(id: imageID)
            let diskFormat = target?.diskFormat ?? "raw"
            if method == "glance-direct" {
                guard let staged = try await blobs.read(key: Self.stagingKey(imageID), range: nil) else {
                    throw GlimpseError.conflict("The staged data of image \(imageID) is gone.")
                }
                data = try await ingest(
                    staged, key: imageID, diskFormat: diskFormat, containerFormat: target?.containerFormat,
                    declaredSize: nil, charge: .alreadyCounted,
                    sizeCapMessage: "Image exceeds the image size cap of \(limits.imageSizeCap) bytes.")
            } else {
                guard let source else { throw GlimpseError.internalError("The web-download task has no source.") }
                let response = try await fetchForImport(source, what: "web-download of")
                data = try await ingest(
                    response.body, key: imageID, diskFormat: diskFormat, containerFormat: target?.containerFormat,
                    declaredSize: nil, announcedSize: response.announcedLength, charge: .project(target?.owner),
                    sizeCapMessage: "Image exceeds the image size cap of \(limits.imageSizeCap) bytes.")
            }
            defer { data.releaseQuota() }
            let result = data
            let virtualSize = result.virtualSize
            try await metadata.transition(id: imageID, from: [.importing], to: .active) { img in
                img.size = result.size
                img.checksum = result.md5
                img.osHashAlgo = "sha512"
                img.osHashValue = result.sha512
                img.virtualSize = virtualSize
                img.properties["os_glance_importing_to_stores"] = ""
                img.properties["os_glance_failed_import"] = ""
                img.updatedAt = Self.now()
            }
            try? await blobs.delete(key: Self.stagingKey(imageID))
            await markTaskSucceeded(taskID, imageID: imageID)
            logger.info("image \(imageID) imported by \(method): \(result.size) bytes")
        } catch {
            logger.warning("import of image \(imageID) by \(method) failed: \(error)")
            try? await blobs.delete(key: imageID)
            let backTo: ImageStatus = method == "glance-direct" ? .uploading : .queued
            _ = try? await metadata.updateImage(id: imageID) { img in
                guard img.status == .importing else { return }
                img.status = backTo
                img.properties["os_glance_importing_to_stores"] = ""
                img.properties["os_glance_failed_import"] = "local"
                img.updatedAt = Self.now()
            }
            let message = (error as? GlimpseError)?.message ?? String(describing: error)
            _ = try? await metadata.updateTask(id: taskID) { t in
                t.status = .failure
                t.message = message
                t.updatedAt = Self.now()
            }
        }
    }

    public func imageTasks(_ id: String, caller: Caller) async throws -> [ImageTask] {
        let image = try await visibleImage(id, caller: caller)
        return try await metadata.tasks(imageID: image.id)
    }

    /// `/v2/tasks` is admin only under Glance's default policy (`tasks_api_access`).
    public func tasks(caller: Caller) async throws -> [ImageTask] {
        guard caller.isAdmin else { throw GlimpseError.forbidden("You are not authorized to complete tasks_api_access action.") }
        return try await metadata.allTasks(limit: 1000)
    }

    public func task(_ id: String, caller: Caller) async throws -> ImageTask {
        guard caller.isAdmin else { throw GlimpseError.forbidden("You are not authorized to complete tasks_api_access action.") }
        guard let t = try await metadata.task(id: id) else { throw GlimpseError.notFound("Task with the given ID \(id) not found") }
        return t
    }

    /// After a restart: imports that were running are failed and their images returned to where they started.
    func recoverImports(inFlight: Set<String>, scope: RecoveryScope) async throws -> Int {
        var recovered = 0
        for image in try await metadata.images(inStatus: .importing)
        where inFlight.contains(image.id) && scope.isAbandoned(image.id) {
            let staged = try await blobs.size(key: Self.stagingKey(image.id)) != nil
            let reset = try? await metadata.updateImage(id: image.id) { img in
                guard img.status == .importing else { throw img.status.transitionError(to: .queued) }
                img.status = staged ? .uploading : .queued
                if !staged { img.size = nil }
                img.properties["os_glance_importing_to_stores"] = ""
                img.properties["os_glance_failed_import"] = "local"
            }
            if let taskID = image.properties["os_glance_import_task"] {
                _ = try await metadata.updateTask(id: taskID) { t in
                    if t.status == .pending || t.status == .processing {
                        t.status = .failure
                        t.message = "The server restarted during the import."
                    }
                }
            }
            guard reset != nil else { continue }
            recovered += 1
            logger.notice("import of image \(image.id) was interrupted by a restart; status \(staged ? "uploading" : "queued")")
        }
        return recovered
    }

    /// After a restart: a stage that was cut short leaves its image `uploading` with no committed staged data. As
    /// Glance does when staging fails, the image goes back to `queued` (its partial data is removed with every
    /// other incomplete write), so it can be staged again.
    func recoverStaging(inFlight: Set<String>, scope: RecoveryScope) async throws -> Int {
        var recovered = 0
        for image in try await metadata.images(inStatus: .uploading)
        where inFlight.contains(image.id) && scope.isAbandoned(image.id) {
            guard try await blobs.size(key: Self.stagingKey(image.id)) == nil else { continue }
            let reset = try? await metadata.transition(id: image.id, from: [.uploading], to: .queued) { img in
                img.size = nil
                img.updatedAt = Self.now()
            }
            guard reset != nil else { continue }
            recovered += 1
            logger.notice("image \(image.id) was being staged when the server stopped; it is queued again")
        }
        return recovered
    }
}
