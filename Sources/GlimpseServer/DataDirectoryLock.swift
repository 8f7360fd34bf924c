#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Keeps a second `glimpse serve` off a data directory that one is already serving. The embedded SQLite store and
/// file blob store assume one owner: start-up recovery resets uploads in progress and the metadata store caches
/// images between writes. The lock is `flock` on `<data-dir>/glimpse.lock`, released by the kernel when the process
/// ends, however it ends.
public final class DataDirectoryLock: Sendable {
    let fd: Int32

    public struct Busy: Error, CustomStringConvertible {
        public let directory: String
        public var description: String {
            "another glimpse process is serving the data directory \(directory); stop it or choose another --data-dir"
        }
    }

    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/glimpse.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw Busy(directory: directory)
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
