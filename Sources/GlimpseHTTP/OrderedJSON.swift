import GlimpseCore
import NIOCore

/// A JSON document whose objects keep the order they are built in. Nova's and Glance's metadefs documents have a
/// stable key order that clients and people read; `JSONValue` (parsed input) has none, so free-form parts taken
/// from it get sorted keys. Rendered with `JSONWriter`.
public indirect enum OrderedJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([OrderedJSON])
    case object([(String, OrderedJSON)])

    public init(_ v: JSONValue) {
        switch v {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map(OrderedJSON.init))
        case .object(let o): self = .object(o.sorted(by: { $0.key < $1.key }).map { ($0.key, OrderedJSON($0.value)) })
        }
    }

    public static func == (a: OrderedJSON, b: OrderedJSON) -> Bool { a.text == b.text }

    public static func str(_ s: String?) -> OrderedJSON { s.map { .string($0) } ?? .null }
    public static func dict(_ d: [String: String]) -> OrderedJSON {
        .object(d.sorted(by: { $0.key < $1.key }).map { ($0.key, .string($0.value)) })
    }

    public var buffer: ByteBuffer {
        var w = JSONWriter(capacity: 512)
        write(into: &w)
        return w.buffer
    }

    public var text: String { String(buffer: buffer) }

    public func write(into w: inout JSONWriter) {
        switch self {
        case .null: w.null()
        case .bool(let b): w.value(b)
        case .int(let i): w.value(i)
        case .double(let d):
            // Integral floats keep their decimal point, so Python clients still read a float.
            w.raw(d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) + ".0" : String(d)) : "null")
        case .string(let s): w.value(s)
        case .array(let a): w.array { inner in for v in a { v.write(into: &inner) } }
        case .object(let o):
            w.object { inner in
                for (k, v) in o {
                    inner.key(k)
                    v.write(into: &inner)
                }
            }
        }
    }
}
