import HTTPTypes
import Foundation
import Hummingbird
import Logging
import Metrics

/// Gives each request an OpenStack request id (`x-openstack-request-id: req-<uuid>`), puts it on every log line
/// of the request, and records request counts and durations with swift-metrics.
public struct RequestLoggingMiddleware: RouterMiddleware {
    public typealias Context = GlimpseRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id = Self.newRequestID()
        context.requestID = id
        context.logger[metadataKey: "request_id"] = .string(id)
        let start = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[Self.requestIDField] = id
        let elapsed = ContinuousClock.now - start
        let status = response.status.code
        context.logger.info("\(request.method) \(request.uri.path) \(status)")
        let dims = [("method", request.method.rawValue), ("status", String(status))]
        Counter(label: "glimpse_http_requests_total", dimensions: dims).increment()
        Timer(label: "glimpse_http_request_duration_seconds", dimensions: [("method", request.method.rawValue)])
            .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        return response
    }

    /// `req-` and a random (version 4) UUID in lowercase, formatted without Foundation's UUID string round trip.
    static func newRequestID() -> String {
        var bytes = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))
        return withUnsafeMutableBytes(of: &bytes) { raw -> String in
            raw[6] = (raw[6] & 0x0F) | 0x40
            raw[8] = (raw[8] & 0x3F) | 0x80
            let hex = Array("0123456789abcdef".utf8)
            var out = [UInt8](repeating: 0, count: 40)
            out[0] = UInt8(ascii: "r"); out[1] = UInt8(ascii: "e"); out[2] = UInt8(ascii: "q"); out[3] = UInt8(ascii: "-")
            var o = 4
            for i in 0..<16 {
                if i == 4 || i == 6 || i == 8 || i == 10 {
                    out[o] = UInt8(ascii: "-")
                    o += 1
                }
                out[o] = hex[Int(raw[i] >> 4)]
                out[o + 1] = hex[Int(raw[i] & 15)]
                o += 2
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    public static let requestIDField = HTTPField.Name("x-openstack-request-id")!
}
