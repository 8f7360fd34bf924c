import HTTPTypes
import Foundation
import GlimpseCore
import Hummingbird
import NIOCore

extension Request {
    /// Collects a small JSON body (at most the context's upload limit) and parses it; malformed JSON is a 400
    /// with a message that says so.
    public func decodeJSON(context: GlimpseRequestContext) async throws -> JSONValue {
        var body = self.body
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: context.maxUploadSize)
        } catch let e as any HTTPResponseError where e.status == .contentTooLarge {
            throw GlimpseError.tooLarge("Request body is too large: at most \(context.maxUploadSize) bytes of JSON are accepted.")
        } catch {
            // A body cut short (fewer bytes than Content-Length, broken chunking, the client gone) is the client's
            // fault: 400, not 500.
            throw GlimpseError.badRequest("Malformed request body: the body ended before it was complete.")
        }
        guard buffer.readableBytes > 0 else {
            throw GlimpseError.badRequest("Malformed JSON in request body: the body is empty.")
        }
        // Foundation's decoder accepts trailing commas (`{"a":1,}`); Glance's JSON parser, like RFC 8259, does not.
        guard !Self.hasTrailingComma(buffer.readableBytesView) else {
            throw GlimpseError.badRequest("Malformed JSON in request body.")
        }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
        } catch {
            throw GlimpseError.badRequest("Malformed JSON in request body.")
        }
    }

    /// Whether a `,` is followed (after whitespace) by `}` or `]` outside strings.
    static func hasTrailingComma(_ bytes: ByteBufferView) -> Bool {
        var inString = false, escaped = false, afterComma = false
        for b in bytes {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): continue
            case UInt8(ascii: "}"), UInt8(ascii: "]"): if afterComma { return true }
            case UInt8(ascii: "\""): inString = true
            default: break
            }
            afterComma = b == UInt8(ascii: ",")
        }
        return false
    }

    /// A JSON object body, or 400.
    public func decodeJSONObject(context: GlimpseRequestContext) async throws -> [String: JSONValue] {
        guard case .object(let o) = try await decodeJSON(context: context) else {
            throw GlimpseError.badRequest("The request body must be a JSON object.")
        }
        return o
    }

    /// The media type of the body, without parameters, lowercased.
    public var mediaType: String? {
        // `Content-Type: ` and `Content-Type: ;` have no media type at all: nil, never an index into an empty split.
        guard let value = headers[.contentType] else { return nil }
        let type = value.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces).lowercased()
        return type.isEmpty ? nil : type
    }
}

extension Response {
    public static func json(_ buffer: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }
}
