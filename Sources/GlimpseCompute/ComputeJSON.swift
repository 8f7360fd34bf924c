import Foundation
import GlimpseCore
import NIOCore

/// An ordered JSON value for Compute responses: Nova's documents have a stable key order that clients and people
/// read, and mix integers, floats, strings and nulls.
indirect enum CJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([CJSON])
    case object([(String, CJSON)])

    static func == (a: CJSON, b: CJSON) -> Bool { a.text == b.text }

    static func str(_ s: String?) -> CJSON { s.map { .string($0) } ?? .null }
    static func dict(_ d: [String: String]) -> CJSON { .object(d.keys.sorted().map { ($0, .string(d[$0]!)) }) }

    var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    var buffer: ByteBuffer { ByteBuffer(string: text) }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : String(d)) : "null"
        case .string(let s): Self.quote(s, into: &out)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += ", " }
                v.write(into: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, (k, v)) in o.enumerated() {
                if i > 0 { out += ", " }
                Self.quote(k, into: &out)
                out += ": "
                v.write(into: &out)
            }
            out += "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}

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
