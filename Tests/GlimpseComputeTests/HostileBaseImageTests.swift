import Foundation
import GlimpseCore
import GlimpseStorage
import NIOCore
import Testing

// Images whose data would make qemu open host files, stored the way data stored before upload inspection existed
// would be (straight into the blob and metadata stores), are refused when a server boots from them: the server
// ends in ERROR with a fault naming the image and no host path, no base copy is kept, and nothing of the host file
// ever becomes readable.

/// Writes `bytes` as the data of the queued image `id` and marks it active, with Glimpse stopped: no upload
/// pipeline (and so no upload-time inspection) sees the data.
func storeBypassingUpload(dataDirectory dir: String, imageID id: String, bytes: [UInt8]) async throws {
    let metadata = try SQLiteMetadataStore(path: dir + "/glimpse.sqlite")
    let blobs = try FileBlobStore(root: dir + "/blobs")
    let writer = try await blobs.makeWriter(key: id)
    try await writer.write(ByteBuffer(bytes: bytes))
    try await writer.commit()
    let size = Int64(bytes.count)
    _ = try await metadata.updateImage(id: id) {
        $0.status = .active
        $0.size = size
        $0.virtualSize = nil
    }
}

/// Creates a queued image with `diskFormat` through the API of a Glimpse on `dir`, then stores `file`'s bytes
/// as its data behind Glimpse's back; returns the image id.
func hostileImage(dataDirectory dir: String, diskFormat: String, file: String) async throws -> String {
    let box = IDBox()
    try await withGlimpse(dataDirectory: dir) { api in
        let r = try await api.post(
            "/v2/images", json: #"{"name":"hostile","disk_format":"\#(diskFormat)","container_format":"bare"}"#)
        #expect(r.status == .created, "\(r)")
        box.id = try #require(r["id"]?.string)
    }
    let id = try #require(box.id)
    try await storeBypassingUpload(
        dataDirectory: dir, imageID: id, bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: file))))
    return id
}

final class IDBox: @unchecked Sendable { var id: String? }

@Suite(.serialized) struct HostileBaseImageTests {
    /// A host file the hostile images point at; its bytes must never be readable through Glimpse.
    static func hostSecret(in dir: String) throws -> (path: String, marker: String) {
        let marker = "HOST-SECRET-\(UUID().uuidString)"
        let path = dir + "-host-secret"
        try Data(String(repeating: marker + "\n", count: 20_000).utf8).write(to: URL(fileURLWithPath: path))
        return (path, marker)
    }

    /// Boots from `image`, expects ERROR with a fault naming the image and no path, and checks that nothing of
    /// the secret is stored anywhere under the data directory besides the hostile image's own bytes.
    func expectRefusedAtBoot(_ api: API, image: String, secretMarker: String) async throws {
        let id = try await api.server(image: image, name: "victim")
        let server = try await api.wait(id) { $0["status"]?.string == "ERROR" }
        let fault = try #require(server["fault"]?["message"]?.string)
        #expect(fault.contains(image), "\(fault)")
        #expect(!fault.contains("/"), "a host path in the fault: \(fault)")
        // No base copy is kept and no disk was made for the server.
        let base = (try? FileManager.default.contentsOfDirectory(atPath: api.dataDirectory + "/compute/base")) ?? []
        #expect(base.filter { $0.contains(image) }.isEmpty, "\(base)")
        #expect(!FileManager.default.fileExists(atPath: api.dataDirectory + "/compute/disks/\(id).qcow2"))
        // A second server from the same image is refused at create.
        let again = try await api.post(
            "/compute/v2.1/servers",
            json: #"{"server":{"name":"again","flavorRef":"1","imageRef":"\#(image)","networks":"none"}}"#,
            version: "2.47")
        #expect(again.status == .badRequest, "\(again)")
        #expect(again.text.contains(image))
        #expect(try await api.action(id, #"{"createImage":{"name":"leak"}}"#).status == .conflict)
        // The secret's bytes are nowhere in what Glimpse keeps.
        let grep = try run(["grep", "-rl", secretMarker, api.dataDirectory])
        #expect(grep.isEmpty, "secret found in: \(grep)")
    }

    @Test func aQcow2WithAnExternalDataFileIsRefusedAtBoot() async throws {
        let dir = testDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let secret = try Self.hostSecret(in: dir)
        defer { try? FileManager.default.removeItem(atPath: secret.path) }
        let file = dir + "-datafile.qcow2"
        defer { try? FileManager.default.removeItem(atPath: file) }
        _ = try run(["qemu-img", "create", "-q", "-f", "qcow2", "-o", "data_file=\(secret.path),data_file_raw=on", file, "1M"])
        #expect(FileManager.default.fileExists(atPath: file))
        let image = try await hostileImage(dataDirectory: dir, diskFormat: "qcow2", file: file)
        try await withGlimpse(dataDirectory: dir) { api in
            try await expectRefusedAtBoot(api, image: image, secretMarker: secret.marker)
        }
    }

    @Test(arguments: ["absolute", "relative"])
    func aVMDKDescriptorWithFlatExtentsIsRefusedAtBoot(_ kind: String) async throws {
        let dir = testDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let secret = try Self.hostSecret(in: dir)
        defer { try? FileManager.default.removeItem(atPath: secret.path) }
        // Relative to the base copy in <data>/compute/base/.
        let extent = kind == "absolute" ? secret.path : "../../../" + URL(fileURLWithPath: secret.path).lastPathComponent
        let descriptor = """
            # Disk DescriptorFile
            version=1
            CID=fffffffe
            parentCID=ffffffff
            createType="monolithicFlat"

            RW 2048 FLAT "\(extent)" 0

            ddb.virtualHWVersion = "4"
            ddb.geometry.cylinders = "2"
            ddb.geometry.heads = "16"
            ddb.geometry.sectors = "63"
            ddb.adapterType = "ide"

            """
        let file = dir + "-flat.vmdk"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data(descriptor.utf8).write(to: URL(fileURLWithPath: file))
        let image = try await hostileImage(dataDirectory: dir, diskFormat: "vmdk", file: file)
        try await withGlimpse(dataDirectory: dir) { api in
            try await expectRefusedAtBoot(api, image: image, secretMarker: secret.marker)
        }
    }

    @Test func aVMDKsVirtualSizeIsCheckedAgainstTheFlavor() async throws {
        let dir = testDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "-big.vmdk"
        defer { try? FileManager.default.removeItem(atPath: file) }
        // A small monolithicSparse file with a 10 GiB virtual disk; m1.tiny has a 1 GiB root disk.
        _ = try run(["qemu-img", "create", "-q", "-f", "vmdk", file, "10G"])
        let image = try await hostileImage(dataDirectory: dir, diskFormat: "vmdk", file: file)
        try await withGlimpse(dataDirectory: dir) { api in
            let id = try await api.server(image: image, flavor: "1", name: "tiny")
            let server = try await api.wait(id) { $0["status"]?.string == "ERROR" }
            let fault = server["fault"]?["message"]?.string ?? ""
            #expect(fault.contains("Flavor's disk is too small for requested image"), "\(fault)")
            #expect(fault.contains("image is \(10 << 30) bytes"), "\(fault)")
            // Now known: refused at create.
            let again = try await api.post(
                "/compute/v2.1/servers",
                json: #"{"server":{"name":"again","flavorRef":"1","imageRef":"\#(image)","networks":"none"}}"#,
                version: "2.47")
            #expect(again.status == .badRequest, "\(again)")
            #expect(again.text.contains("Flavor's disk is too small"))
            // A flavor big enough boots it.
            let admin = try await api.post(
                "/compute/v2.1/flavors",
                json: #"{"flavor":{"name":"big","id":"big","ram":512,"vcpus":1,"disk":20}}"#, as: .admin)
            #expect(admin.status == .ok, "\(admin)")
            let ok = try await api.server(image: image, flavor: "big", name: "big")
            _ = try await api.waitStatus(ok, "ACTIVE")
        }
    }
}
