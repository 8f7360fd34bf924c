#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// Keeps the data directory private to the service's user: it holds password hashes (identity), tokens, every
/// tenant's image data and server disks. New files are created 0600 and directories 0700 (umask 077, which
/// `qemu-img` and every other helper inherit); an existing directory left wider by an older version or by hand
/// is tightened at start, with a log line saying how many entries were changed.
public enum DataDirectoryPermissions {
    public static func secure(_ directory: String, logger: Logger) throws {
        umask(0o077)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var tightened = 0
        if tighten(directory, directory: true) { tightened += 1 }
        if let walker = FileManager.default.enumerator(atPath: directory) {
            while let relative = walker.nextObject() as? String {
                let path = directory + "/" + relative
                var st = stat()
                // lstat: a symbolic link is never followed out of the directory.
                guard lstat(path, &st) == 0 else { continue }
                let kind = st.st_mode & S_IFMT
                if kind == S_IFDIR {
                    if tighten(path, directory: true) { tightened += 1 }
                } else if kind == S_IFREG {
                    if tighten(path, directory: false) { tightened += 1 }
                }
            }
        }
        if tightened > 0 {
            logger.notice("data directory: \(tightened) file(s) and directories were readable by other users; now private to this user (0700/0600)")
        }
    }

    /// Removes group and other permissions; true when the mode changed.
    private static func tighten(_ path: String, directory: Bool) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0 else { return false }
        let mode = st.st_mode & 0o7777
        let wanted: mode_t = directory ? 0o700 : (mode & 0o700)
        guard mode != wanted else { return false }
        return chmod(path, wanted) == 0
    }
}
