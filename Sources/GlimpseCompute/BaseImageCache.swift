import Foundation
import GlimpseCore
import GlimpseImageAPI
import GlimpseStorage
import Logging

/// Compute-owned copies of boot images (`<compute dir>/base/<image id>.<format>`), made once per image by
/// streaming the image data out of the image store, and inspected (`verify`) before any qemu-img opens them.
/// Server disks are overlays on these files, so deleting the image later breaks nothing; a copy is removed when no
/// server uses it any more.
actor BaseImageCache {
    let directory: String
    let scratch: String
    let store: any ComputeStore
    let images: ImageService
    let logger: Logger
    var inFlight: [String: Task<BaseImageFile, any Error>] = [:]

    init(directory: String, scratch: String, store: any ComputeStore, images: ImageService, logger: Logger) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.scratch = scratch
        self.store = store
        self.images = images
        self.logger = logger
    }

    /// The qemu format name for a Glance disk_format, or nil when no driver can use it as a root disk.
    static func qemuFormat(_ diskFormat: String?) -> String? {
        switch diskFormat {
        case "raw", "ami": "raw"
        case "qcow2": "qcow2"
        case "vmdk": "vmdk"
        case "vdi": "vdi"
        case "vhd": "vpc"
        case "vhdx": "vhdx"
        default: nil
        }
    }

    func path(_ imageID: String, format: String) -> String { "\(directory)/\(imageID).\(format)" }

    /// Verdicts reached in this process, by image id: a base file is read through the inspector once, and a
    /// refused image is refused again at server create (400) without reading anything.
    var verdicts: [String: BaseImageInspection.Verdict] = [:]
    var verified: [String: BaseImageFile] = [:]

    /// What is already known about `imageID`'s data, if its base file was inspected in this process.
    func knownVerdict(_ imageID: String) -> BaseImageInspection.Verdict? { verdicts[imageID] }

    /// The base file of `image`, copying it from the image store first if needed (one copy at a time per image),
    /// inspected before qemu-img ever opens it.
    func ensure(_ image: Image, caller: Caller) async throws -> BaseImageFile {
        guard let format = Self.qemuFormat(image.diskFormat), let declared = image.diskFormat else {
            throw HypervisorError(
                .unsupported, "Image \(image.id) has disk_format \(image.diskFormat ?? "None"), which cannot be a root disk here.")
        }
        if let done = verified[image.id] { return done }
        if case .refused(let why)? = verdicts[image.id] { throw Self.refusal(image.id, why) }
        let final = path(image.id, format: format)
        let task: Task<BaseImageFile, any Error>
        if let running = inFlight[image.id] {
            task = running
        } else {
            let images = self.images, scratch = self.scratch, logger = self.logger, directory = self.directory
            task = Task<BaseImageFile, any Error> {
                if FileManager.default.fileExists(atPath: final) {
                    // Copied by an earlier run, possibly before inspection existed: inspected again.
                    let size = try await Self.verify(final, imageID: image.id, declared: declared, format: format, scratch: scratch)
                    return BaseImageFile(imageID: image.id, path: final, format: format, virtualSize: size)
                }
                let partial = "\(directory)/.\(image.id).partial-\(UUID().uuidString)"
                do {
                    let download = try await images.download(image.id, range: nil, caller: caller)
                    guard let chunks = download.chunks else {
                        throw HypervisorError(.failed, "Image \(image.id) has no data.")
                    }
                    let bytes = try await FileSink.write(chunks, to: partial)
                    let size = try await Self.verify(partial, imageID: image.id, declared: declared, format: format, scratch: scratch)
                    guard rename(partial, final) == 0 else {
                        throw HypervisorError(.failed, "cannot move the copy of image \(image.id) into place: errno \(errno)")
                    }
                    logger.info("copied image \(image.id) into its compute base file (\(bytes) bytes, \(format))")
                    return BaseImageFile(imageID: image.id, path: final, format: format, virtualSize: size)
                } catch {
                    try? FileManager.default.removeItem(atPath: partial)
                    throw error
                }
            }
            inFlight[image.id] = task
        }
        do {
            let file = try await task.value
            inFlight[image.id] = nil
            verified[image.id] = file
            verdicts[image.id] = .accepted(virtualSize: file.virtualSize)
            return file
        } catch let e as ImageRefusal {
            inFlight[image.id] = nil
            if verdicts[image.id] == nil { logger.warning("image \(image.id) is refused as a root disk: \(e.reason)") }
            verdicts[image.id] = .refused(e.reason)
            throw Self.refusal(image.id, e.reason)
        } catch {
            inFlight[image.id] = nil
            throw error
        }
    }

    /// Why the data of an image cannot be a disk, as the refusal is first found (internal to the cache).
    struct ImageRefusal: Error {
        var reason: String
    }

    static func refusal(_ imageID: String, _ why: String) -> HypervisorError {
        HypervisorError(.unsupported, "Image \(imageID) cannot be used as a root disk: \(why)")
    }

    /// The inspector first (nothing has opened the file yet), then `qemu-img info` under limits with the format
    /// given explicitly, refusing anything that would make qemu open another file. Returns the virtual size: the
    /// inspector's, so the flavor's disk check applies to every format (VMDK included), or qemu's when the
    /// inspector has none.
    static func verify(_ path: String, imageID: String, declared: String, format: String, scratch: String) async throws -> Int64 {
        let inspected: Int64?
        switch try await BaseImageInspection.inspect(path: path, declaredFormat: declared) {
        case .refused(let why): throw ImageRefusal(reason: why)
        case .accepted(let size): inspected = size
        }
        let qemuSize = try await inspect(path, format: format, scratch: scratch)
        return inspected ?? qemuSize
    }

    /// The virtual size of a disk file read as `format` by `qemu-img info` (under Nova's limits); refuses files
    /// that name a backing file, an external data file or extents in other files.
    static func inspect(_ path: String, format: String, scratch: String) async throws -> Int64 {
        let info: Subprocess.Result
        do {
            info = try await Subprocess.run(
                "qemu-img", ["info", "--output=json", "-f", format, path], scratch: scratch, limits: .inspect)
        } catch let f as Subprocess.Failure {
            throw ImageRefusal(reason: "the data is not a valid \(format) disk (\(f.description))")
        }
        guard let doc = try? JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any],
            let size = (doc["virtual-size"] as? NSNumber)?.int64Value
        else { throw ImageRefusal(reason: "qemu-img info gave no virtual size") }
        if doc["backing-filename"] != nil || doc["full-backing-filename"] != nil {
            throw ImageRefusal(reason: "Image failed safety checks (a backing file)")
        }
        let specific = (doc["format-specific"] as? [String: Any])?["data"] as? [String: Any]
        if specific?["data-file"] != nil {
            throw ImageRefusal(reason: "Image failed safety checks (an external data file)")
        }
        for extent in specific?["extents"] as? [[String: Any]] ?? [] where extent["filename"] as? String != path {
            throw ImageRefusal(reason: "Image failed safety checks (extents in other files)")
        }
        return size
    }

    /// Removes the base file of `imageID` when no server uses it any more.
    func release(_ imageID: String) async {
        guard inFlight[imageID] == nil else { return }
        do {
            guard try await store.serverCount(usingImage: imageID) == 0 else { return }
        } catch {
            return
        }
        verified[imageID] = nil
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.hasPrefix(imageID + ".") {
            try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
            logger.info("removed the compute base file \(name): no server uses it")
        }
    }

    /// Start-up: removes half-copied files and base files no server uses.
    func cleanUp() async {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            if name.hasPrefix(".") {
                try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
                continue
            }
            if let dot = name.firstIndex(of: ".") { await release(String(name[..<dot])) }
        }
    }
}
