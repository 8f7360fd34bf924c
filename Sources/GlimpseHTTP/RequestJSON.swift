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
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw GlimpseError.tooLarge("Request body is too large: at most \(context.maxUploadSize) bytes of JSON are accepted.")
        }
        guard buffer.readableBytes > 0 else {
            throw GlimpseError.badRequest("Malformed JSON in request body: the body is empty.")
        }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
        } catch {
            throw GlimpseError.badRequest("Malformed JSON in request body.")
        }
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
        headers[.contentType].map {
            $0.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces).lowercased()
        }
    }
}

extension Response {
    public static func json(_ buffer: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }
}
