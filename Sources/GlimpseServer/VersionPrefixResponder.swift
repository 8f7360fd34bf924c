import GlimpseHTTP
import HTTPTypes
import Hummingbird

/// Glance's version negotiation in front of the router: `/v2.N/...` (N up to the current minor version) reaches
/// the same v2 API as `/v2/...`, as Glance serves it.
struct VersionPrefixResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == GlimpseRequestContext {
    let inner: Inner
    static var maxMinor: Int { 17 }

    func respond(to request: Request, context: GlimpseRequestContext) async throws -> Response {
        guard let path = request.head.path, let rewritten = Self.canonical(path) else {
            return try await inner.respond(to: request, context: context)
        }
        var head = request.head
        head.path = rewritten
        return try await inner.respond(to: Request(head: head, body: request.body), context: context)
    }

    /// `/v2.5/images?x` → `/v2/images?x`; nil when the path needs no change.
    static func canonical(_ path: String) -> String? {
        guard path.hasPrefix("/v2.") else { return nil }
        let rest = path.dropFirst(4)
        let digits = rest.prefix { $0.isNumber }
        guard !digits.isEmpty, let minor = Int(digits), minor <= maxMinor else { return nil }
        let tail = rest.dropFirst(digits.count)
        guard tail.isEmpty || tail.hasPrefix("/") || tail.hasPrefix("?") else { return nil }
        return "/v2" + tail
    }
}
