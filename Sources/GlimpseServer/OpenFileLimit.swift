// The process's open-file limit (RLIMIT_NOFILE): every connection, image file, SQLite handle and helper pipe is one
// descriptor, so Glimpse raises the soft limit to the hard limit at start and sizes its connection cap from it.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum OpenFileLimit {
    /// Raises the soft limit to the hard limit (as far as the system allows) and returns the limit now in force,
    /// or nil when it cannot be read.
    @discardableResult
    public static func raiseToHardLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(resourceNumber, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            #if canImport(Darwin)
            // macOS refuses RLIM_INFINITY and anything above OPEN_MAX for the soft limit.
            raised.rlim_cur = min(limit.rlim_max, rlim_t(OPEN_MAX))
            #endif
            if setrlimit(resourceNumber, &raised) == 0 { limit = raised }
        }
        return current()
    }

    /// The soft limit in force, or nil when it cannot be read. An unlimited soft limit reads as Int.max.
    public static func current() -> Int? {
        var limit = rlimit()
        guard getrlimit(resourceNumber, &limit) == 0 else { return nil }
        return Int(clamping: limit.rlim_cur)  // RLIM_INFINITY is all ones: Int.max
    }

    /// The default cap on open connections for an open-file limit: what is left after keeping a quarter of the
    /// descriptors (at least 256) for image files, the database, the image cache and helper processes.
    public static func defaultMaximumConnections(openFileLimit: Int?) -> Int {
        let limit = min(openFileLimit ?? 1_024, 1 << 24)
        return max(32, limit - max(256, limit / 4))
    }

    #if canImport(Glibc)
    private static let resourceNumber = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resourceNumber = RLIMIT_NOFILE
    #endif
}
