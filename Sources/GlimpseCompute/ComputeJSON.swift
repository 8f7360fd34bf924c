import Foundation
import GlimpseCore
import GlimpseHTTP
import NIOCore

/// Compute responses keep Nova's key order.
typealias CJSON = OrderedJSON

extension JSONValue {
    /// The value as a string when it is one.
    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// Integers given as JSON numbers or as digit strings (Nova's flavor and count parameters accept both).
    var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded(): return Int64(exactly: d)
        case .string(let s): return Int64(s.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }

    var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

/// Nova's timestamp renderings.
enum NovaTime {
    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()) }

    /// `2026-11-23T06:45:25Z` (created, updated).
    static func iso(_ micros: Int64) -> String { Timestamp(microseconds: micros).iso8601 }

    /// `2026-11-23T06:45:25.000000` (OS-SRV-USG:launched_at: no zone, microseconds).
    static func usage(_ micros: Int64) -> String {
        let base = Timestamp(microseconds: micros).iso8601.dropLast()
        let frac = ((micros % 1_000_000) + 1_000_000) % 1_000_000
        return base + "." + String(format: "%06d", frac)
    }
}
