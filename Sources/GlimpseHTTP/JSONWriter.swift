import HTTPTypes
import NIOCore

/// Writes JSON straight into a ByteBuffer, in the key order given. Responses with dynamic keys (Glance images carry
/// extra properties at top level) and big lists are built here without intermediate dictionaries.
public struct JSONWriter {
    public private(set) var buffer: ByteBuffer
    private var needsComma = false

    public init(capacity: Int = 1024) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        separator()
        buffer.writeInteger(UInt8(ascii: "{"))
        needsComma = false
        body(&self)
        buffer.writeInteger(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func array(_ body: (inout JSONWriter) -> Void) {
        separator()
        buffer.writeInteger(UInt8(ascii: "["))
        needsComma = false
        body(&self)
        buffer.writeInteger(UInt8(ascii: "]"))
        needsComma = true
    }

    public mutating func key(_ k: String) {
        separator()
        writeString(k)
        buffer.writeInteger(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func field(_ k: String, _ v: String?) {
        key(k)
        value(v)
    }

    public mutating func field(_ k: String, _ v: Int64?) {
        key(k)
        value(v)
    }

    public mutating func field(_ k: String, _ v: Bool) {
        key(k)
        value(v)
    }

    public mutating func field(_ k: String, object body: (inout JSONWriter) -> Void) {
        key(k)
        object(body)
    }

    public mutating func field(_ k: String, array body: (inout JSONWriter) -> Void) {
        key(k)
        array(body)
    }

    public mutating func value(_ s: String?) {
        separator()
        if let s { writeString(s) } else { buffer.writeStaticString("null") }
        needsComma = true
    }

    public mutating func value(_ i: Int64?) {
        separator()
        if let i { buffer.writeString(String(i)) } else { buffer.writeStaticString("null") }
        needsComma = true
    }

    public mutating func value(_ b: Bool) {
        separator()
        buffer.writeStaticString(b ? "true" : "false")
        needsComma = true
    }

    /// Writes pre-encoded JSON text (a number, or a trusted fragment) as one value.
    public mutating func raw(_ json: String) {
        separator()
        buffer.writeString(json)
        needsComma = true
    }

    public mutating func null() {
        separator()
        buffer.writeStaticString("null")
        needsComma = true
    }

    private mutating func separator() {
        if needsComma { buffer.writeInteger(UInt8(ascii: ",")) }
    }

    private mutating func writeString(_ s: String) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var clean = true
            for b in bytes where b < 0x20 || b == 0x22 || b == 0x5C {
                clean = false
                break
            }
            if clean {
                buffer.writeBytes(bytes)
                return
            }
            for b in bytes {
                switch b {
                case 0x22: buffer.writeStaticString("\\\"")
                case 0x5C: buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                case ..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hex[Int(b >> 4)])
                    buffer.writeInteger(hex[Int(b & 15)])
                default: buffer.writeInteger(b)
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
