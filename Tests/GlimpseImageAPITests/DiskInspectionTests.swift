import Foundation
import GlimpseImageAPI
import HTTPTypes
import NIOCore
import Testing

/// Upload-time inspection through HTTP: what the data really is must be the declared disk format and pass
/// Glance's safety checks, on PUT /file and on import; refused data is never kept and never downloadable.
@Suite struct DiskInspectionTests {
    /// A qcow2 header written field by field (big-endian), optionally naming a backing file.
    static func qcow2(virtualSize: UInt64 = 1 << 30, backingFile: String? = nil) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 4096)
        func be(_ value: UInt64, _ width: Int, _ at: Int) {
            for i in 0..<width { b[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(width - 1 - i))) }
        }
        b.replaceSubrange(0..<4, with: [0x51, 0x46, 0x49, 0xFB])
        be(3, 4, 4)  // version
        be(16, 4, 20)  // cluster_bits
        be(virtualSize, 8, 24)
        be(104, 4, 100)  // header_length
        if let backingFile {
            be(512, 8, 8)
            be(UInt64(backingFile.utf8.count), 4, 16)
            b.replaceSubrange(512..<(512 + backingFile.utf8.count), with: Array(backingFile.utf8))
        }
        return b
    }

    static let flatExtentVMDK = Array("""
        # Disk DescriptorFile
        version=1
        CID=fffffffe
        parentCID=ffffffff
        createType="monolithicFlat"

        RW 2048 FLAT "../../glimpse.sqlite" 0

        ddb.virtualHWVersion = "4"

        """.utf8)

    static func create(_ api: API, format: String) async throws -> String {
        try await api.createImage(#"{"name":"x","disk_format":"\#(format)","container_format":"bare"}"#)
    }

    @Test func unsafeImagesAre415OnPutAndKeepNothing() async throws {
        try await withGlimpse { api in
            let cases: [(format: String, data: [UInt8], message: String)] = [
                ("qcow2", Self.qcow2(backingFile: "/etc/passwd"), "Image failed safety checks"),
                ("raw", Self.qcow2(backingFile: "/etc/passwd"), "Image failed safety checks"),
                ("vmdk", Self.flatExtentVMDK, "Image failed safety checks"),
                ("qcow2", Array(repeating: 0x41, count: 4096), "Image disk_format qcow2 does not match stream data raw"),
                ("vmdk", Self.qcow2(), "Image disk_format vmdk does not match stream data qcow2"),
            ]
            for c in cases {
                let id = try await Self.create(api, format: c.format)
                let r = try await api.put("/v2/images/\(id)/file", data: c.data)
                expectError(r, .unsupportedMediaType, containing: c.message)
                let image = try await api.image(id)
                #expect(image["status"]?.string == "queued", "\(c.format): \(image)")
                #expect(image["size"]?.isNull == true)
                #expect(try await api.get("/v2/images/\(id)/file").status == .noContent, "no data to download")
            }
            #expect(api.blobFiles().isEmpty, "nothing refused is kept: \(api.blobFiles())")
        }
    }

    @Test func safeImagesRecordTheVirtualSizeOfTheDeclaredFormat() async throws {
        try await withGlimpse { api in
            let q = try await Self.create(api, format: "qcow2")
            try await api.upload(q, Self.qcow2(virtualSize: 1 << 50))
            #expect(try await api.image(q)["virtual_size"]?.int == 1 << 50)
            // Raw accepts any safe data and records its byte count, as Glance does.
            let r = try await Self.create(api, format: "raw")
            try await api.upload(r, Self.qcow2())
            #expect(try await api.image(r)["virtual_size"]?.int == 4096)
        }
    }

    @Test func withoutTheFormatMatchRuleAMismatchIsKeptButUnsafeDataIsNot() async throws {
        try await withGlimpse(limits: ImageLimits(requireImageFormatMatch: false)) { api in
            let mismatch = try await Self.create(api, format: "qcow2")
            try await api.upload(mismatch, Array(repeating: 0x41, count: 4096))
            #expect(try await api.image(mismatch)["virtual_size"]?.isNull == true, "no virtual size it cannot know")
            let unsafe = try await Self.create(api, format: "vmdk")
            expectError(
                try await api.put("/v2/images/\(unsafe)/file", data: Self.qcow2(backingFile: "/etc/passwd")),
                .unsupportedMediaType, containing: "Image failed safety checks")
        }
    }

    @Test func anUnsafeStagedImageFailsItsImportTask() async throws {
        try await withGlimpse { api in
            let id = try await Self.create(api, format: "qcow2")
            let staged = try await api.put("/v2/images/\(id)/stage", data: Self.qcow2(backingFile: "/etc/shadow"))
            #expect(staged.status == .noContent, "Glance stages anything; the import inspects it: \(staged)")
            let r = try await api.post("/v2/images/\(id)/import", json: #"{"method":{"name":"glance-direct"}}"#)
            #expect(r.status == .accepted, "\(r)")
            let image = try await ImportTests.settled(api, id)
            #expect(image["status"]?.string == "uploading", "\(image)")
            #expect(image["os_glance_failed_import"]?.string == "local")
            let tasks = try await api.get("/v2/images/\(id)/tasks")
            let task = try #require(tasks["tasks"]?.array?.first)
            #expect(task["status"]?.string == "failure")
            #expect(task["message"]?.string?.contains("Image failed safety checks") == true, "\(task)")
            #expect(try await api.get("/v2/images/\(id)/file").status == .noContent)
            #expect(!api.blobFiles().contains("objects/\(id)"), "no image data: \(api.blobFiles())")
        }
    }
}
