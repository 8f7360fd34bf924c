// The two renderings of a signing time SigV4 uses: the ISO 8601 basic timestamp and its day.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A UTC time as `YYYYMMDD'T'HHMMSS'Z'` (the `x-amz-date` header) and `YYYYMMDD` (the credential scope).
public struct SigV4Date: Sendable, Equatable {
    public let timestamp: String
    public var day: String { String(timestamp.prefix(8)) }

    /// Parses `YYYYMMDDTHHMMSSZ`; nil when malformed.
    public init?(timestamp: String) {
        let bytes = Array(timestamp.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z"),
              bytes[0..<8].allSatisfy({ $0 >= 48 && $0 <= 57 }), bytes[9..<15].allSatisfy({ $0 >= 48 && $0 <= 57 })
        else { return nil }
        self.timestamp = timestamp
    }

    /// The current time.
    public static func now() -> SigV4Date {
        var seconds = time(nil)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let stamp = "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
        // Four-digit years always render as 16 characters.
        return SigV4Date(timestamp: stamp) ?? SigV4Date(uncheckedTimestamp: stamp)
    }

    private init(uncheckedTimestamp: String) { timestamp = uncheckedTimestamp }
}
