import Foundation
import GlimpseCore
import GlimpseImageAPI
import GlimpseStorage
import Logging

/// Compute-owned copies of boot images (`<compute dir>/base/<image id>.<format>`), made once per image by
/// streaming the image data out of the image store. Server disks are overlays on these files, so deleting the
/// image later breaks nothing; a copy is removed when no server uses it any more.
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

    /// The base file of `image`, copying it from the image store first if needed (one copy at a time per image).
    func ensure(_ image: Image, caller: Caller) async throws -> BaseImageFile {
        guard let format = Self.qemuFormat(image.diskFormat) else {
            throw HypervisorError(
                .unsupported, "Image \(image.id) has disk_format \(image.diskFormat ?? "None"), which cannot be a root disk here.")
        }
        let final = path(image.id, format: format)
        if let running = inFlight[image.id] { return try await running.value }
        if FileManager.default.fileExists(atPath: final) {
            let size = try await Self.inspect(final, format: format, scratch: scratch)
            return BaseImageFile(imageID: image.id, path: final, format: format, virtualSize: size)
        }
        let images = self.images, scratch = self.scratch, logger = self.logger
        let partial = "\(directory)/.\(image.id).partial-\(UUID().uuidString)"
        let task = Task<BaseImageFile, any Error> {
            do {
                let download = try await images.download(image.id, range: nil, caller: caller)
                guard let chunks = download.chunks else {
                    throw HypervisorError(.failed, "Image \(image.id) has no data.")
                }
                let bytes = try await FileSink.write(chunks, to: partial)
                let size = try await Self.inspect(partial, format: format, scratch: scratch)
                guard rename(partial, final) == 0 else {
                    throw HypervisorError(.failed, "cannot move the copy of image \(image.id) into place: errno \(errno)")
                }
                logger.info("copied image \(image.id) into the compute base file \(final) (\(bytes) bytes, \(format))")
                return BaseImageFile(imageID: image.id, path: final, format: format, virtualSize: size)
            } catch {
                try? FileManager.default.removeItem(atPath: partial)
                throw error
            }
        }
        inFlight[image.id] = task
        defer { inFlight[image.id] = nil }
        return try await task.value
    }

    /// The virtual size of a disk file read as `format`; refuses qcow2 files that name a backing file (an uploaded
    /// image must not make the host open files of its choosing).
    static func inspect(_ path: String, format: String, scratch: String) async throws -> Int64 {
        let info: Subprocess.Result
        do {
            info = try await Subprocess.run("qemu-img", ["info", "--output=json", "-f", format, path], scratch: scratch)
        } catch let f as Subprocess.Failure {
            throw HypervisorError(.failed, "the image data is not a valid \(format) disk: \(f.stderr)")
        }
        guard let doc = try? JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any],
            let size = (doc["virtual-size"] as? NSNumber)?.int64Value
        else { throw HypervisorError(.failed, "qemu-img info gave no virtual size for \(path)") }
        if doc["backing-filename"] != nil || doc["full-backing-filename"] != nil {
            throw HypervisorError(.unsupported, "the image is a \(format) disk with a backing file, which is refused")
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
