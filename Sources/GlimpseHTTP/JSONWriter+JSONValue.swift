import GlimpseCore
import NIOCore

extension JSONWriter {
    /// Writes a parsed JSON value back out (object keys sorted, for stable output).
    public mutating func value(_ v: JSONValue) {
        switch v {
        case .null: null()
        case .bool(let b): value(b)
        case .int(let i): value(i)
        case .double(let d): raw(d.isFinite ? String(d) : "null")
        case .string(let s): value(s)
        case .array(let items): array { a in for item in items { a.value(item) } }
        case .object(let o):
            object { w in
                for (key, value) in o.sorted(by: { $0.key < $1.key }) {
                    w.key(key)
                    w.value(value)
                }
            }
        }
    }

    public static func encode(_ v: JSONValue) -> ByteBuffer {
        var w = JSONWriter(capacity: 256)
        w.value(v)
        return w.buffer
    }
}
