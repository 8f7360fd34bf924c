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
        let id = "req-" + UUID().uuidString.lowercased()
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

    public static let requestIDField = HTTPField.Name("x-openstack-request-id")!
}
