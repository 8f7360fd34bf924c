import GlimpseCore
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

/// The routes' paths and methods, filled once every route has been added (middleware is added first).
public final class RouteTable: Sendable {
    struct Route {
        var segments: [Substring]
        var methods: Set<HTTPRequest.Method>
    }

    private let routes = NIOLockedValueBox([Route]())

    public init() {}

    /// Takes the router's route list; call after the last route is added.
    public func load<Context>(from router: Router<Context>) {
        var byPath: [String: Set<HTTPRequest.Method>] = [:]
        for route in router.routes { byPath[route.path.description, default: []].insert(route.method) }
        routes.withLockedValue { routes in
            routes = byPath.map { Route(segments: Self.segments($0.key), methods: $0.value) }
        }
    }

    /// The methods some route accepts for `path`, or nil when no route has this path at all.
    func methods(for path: String) -> Set<HTTPRequest.Method>? {
        let parts = Self.segments(path)
        var found: Set<HTTPRequest.Method>?
        routes.withLockedValue { routes in
            for route in routes where Self.matches(route.segments, parts) {
                found = (found ?? []).union(route.methods)
            }
        }
        return found
    }

    static func segments(_ path: String) -> [Substring] { path.split(separator: "/", omittingEmptySubsequences: true) }

    static func matches(_ pattern: [Substring], _ parts: [Substring]) -> Bool {
        var i = 0
        for (n, p) in pattern.enumerated() {
            if p == "**" { return true }
            guard i < parts.count else { return false }
            let wildcard = p == "*" || p.hasPrefix(":") || (p.hasPrefix("{") && p.hasSuffix("}"))
            if !wildcard, p != parts[i] { return false }
            i += 1
            if n == pattern.count - 1 { return i == parts.count }
        }
        return pattern.isEmpty && parts.isEmpty
    }
}

/// Answers 405 with `Allow` when the path exists but not for this method, as Glance (webob), Keystone and Nova do;
/// Hummingbird's router alone answers 404.
public struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    let table: RouteTable

    public init(table: RouteTable) { self.table = table }

    /// Only the router's own 404 (no route for this path and method) is looked at, so matched requests pay nothing.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            throw notAllowed(request) ?? error
        }
    }

    func notAllowed(_ request: Request) -> GlimpseErrorWithHeaders? {
        // An empty segment (`DELETE /v2/images/`, an empty id) names no resource: Glance answers 404 there.
        let path = request.uri.path
        guard path == "/" || (!path.hasSuffix("/") && !path.contains("//")) else { return nil }
        guard let allowed = table.methods(for: path), !allowed.isEmpty,
            !allowed.contains(request.method), !(request.method == .head && allowed.contains(.get))
        else { return nil }
        let names = allowed.map(\.rawValue).sorted().joined(separator: ", ")
        return GlimpseErrorWithHeaders(
            GlimpseError(.methodNotAllowed, "The method \(request.method.rawValue) is not allowed for this resource."),
            headers: [.allow: names])
    }
}
