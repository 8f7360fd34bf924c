#if canImport(Glibc)
import Glibc
#endif
import GlimpseCore
import GlimpseDiskFormats
import NIOPosix

/// Boot-time defence in depth: a base file is read through the project's disk-format inspector before any
/// `qemu-img` opens it, so data stored before uploads were inspected (or by any other way) still cannot make qemu
/// open host files (qcow2 external data files and backing files, VMDK extents) or pass as another format.
enum BaseImageInspection {
    /// The inspector's verdict for one file, reduced to what the compute side needs.
    enum Verdict: Sendable, Equatable {
        case accepted(virtualSize: Int64?)
        case refused(String)
    }

    static let chunkSize = 1 << 20

    /// Feeds the whole file at `path` to the inspector in 1 MiB chunks on the NIO thread pool (never on an event
    /// loop) and judges it against the image's declared `disk_format`.
    static func inspect(path: String, declaredFormat: String) async throws -> Verdict {
        try await NIOThreadPool.singleton.runIfActive {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw GlimpseError.internalError("cannot open a compute base file: errno \(errno)") }
            defer { close(fd) }
            var inspector = DiskImageInspector()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 4096)
            defer { buffer.deallocate() }
            while true {
                let n = read(fd, buffer.baseAddress, chunkSize)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw GlimpseError.internalError("cannot read a compute base file: errno \(errno)")
                }
                if n == 0 { break }
                inspector.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
            let inspection = inspector.finish()
            switch inspection.verdict(declaredFormat: declaredFormat) {
            case .accepted(let virtualSize):
                let size: Int64? = virtualSize
                return .accepted(virtualSize: size)
            case .refused(let refusal):
                return .refused(refusal.message)
            }
        }
    }
}
