import GlimpseCompute
// Images made by the real qemu-img (skipped when it is not installed): the inspector must recognise each,
// read the virtual size qemu-img wrote, and see the backing file and external data file qemu-img sets.

@testable import GlimpseDiskFormats
import Foundation
import Testing

enum QemuImg {
    static let path = ["/usr/bin/qemu-img", "/usr/local/bin/qemu-img"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
}

@Suite(.enabled(if: QemuImg.path != nil, "qemu-img is not installed"))
final class QemuImgTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-qemu-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Runs `qemu-img create` and returns the main file's bytes.
    func create(_ name: String, _ arguments: [String]) throws -> [UInt8] {
        // posix_spawn (ChildProcess), not Foundation's Process, whose run() now and then crashes the test process.
        let argv = [QemuImg.path ?? "/usr/bin/qemu-img", "create", "-q"]
            + arguments.map { $0.replacingOccurrences(of: "@", with: directory.path + "/") }
        let pid = try ChildProcess.spawn(argv)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        try #require(status == 0, "qemu-img create \(arguments)")
        return try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
    }

    @Test(arguments: [
        ("qcow2", "qcow2", [String]()), ("vmdk", "vmdk", []), ("vmdk", "vmdk", ["-o", "subformat=streamOptimized"]),
        ("vpc", "vhd", []), ("vhdx", "vhdx", []), ("vdi", "vdi", []), ("qed", "qed", []),
    ])
    func recognisesPlainImages(driver: String, format: String, options: [String]) throws {
        let size: Int64 = 64 << 20
        let bytes = try create("disk.\(driver)", ["-f", driver] + options + ["@disk.\(driver)", "\(size)"])
        let result = inspect(bytes, chunk: 65536)
        #expect(result.format == DiskFormat(rawValue: format))
        #expect(inspect(bytes, chunk: 7) == result)
        if format == "qed" {
            #expect(!result.safetyViolations.isEmpty)
        } else {
            #expect(result.safetyViolations.isEmpty)
            // VPC rounds the size to its CHS geometry.
            #expect(format == "vhd" ? (result.virtualSize ?? 0) >= size - (1 << 20) : result.virtualSize == size)
            if case .refused(let refusal) = result.verdict(declaredFormat: format) { Issue.record("\(refusal)") }
        }
    }

    @Test func backingFileAndDataFileAreRefused() throws {
        _ = try create("base.raw", ["-f", "raw", "@base.raw", "1M"])
        let backed = try create("backed.qcow2", ["-f", "qcow2", "-F", "raw", "-b", "@base.raw", "@backed.qcow2"])
        #expect(inspect(backed).safetyViolations == ["backing_file: Image has a backing file"])
        let external = try create("external.qcow2", [
            "-f", "qcow2", "-o", "data_file=@passwd-copy,data_file_raw=on", "@external.qcow2", "1M",
        ])
        let verdict = inspect(external).verdict(declaredFormat: "raw")
        #expect(verdict == .refused(.failedSafetyChecks(reasons: ["data_file: Image has data_file set"])))
    }

    @Test func flatVMDKIsADescriptorFile() throws {
        let descriptor = try create("flat.vmdk", ["-f", "vmdk", "-o", "subformat=monolithicFlat", "@flat.vmdk", "1M"])
        let result = inspect(descriptor)
        #expect(result.format == .vmdk)
        #expect(result.safetyViolations == ["descriptor: Unsupported subformat"])
    }
}
