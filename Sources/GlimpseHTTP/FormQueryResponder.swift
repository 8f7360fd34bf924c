import Foundation
import Hummingbird

/// Decodes query strings as HTML forms do, for every API, before routing: `+` is a space. Python clients
/// (requests, keystoneauth, so openstacksdk and the `openstack` CLI) always send spaces as `+`, and Glance, Keystone
/// and Nova read them back as spaces; `%2B` stays a plus. Hummingbird percent-decodes query values but keeps `+`,
/// so each `+` of the query becomes `%20` here.
public struct FormQueryResponder<Inner: HTTPResponder>: HTTPResponder {
    public typealias Context = Inner.Context
    let inner: Inner

    public init(inner: Inner) { self.inner = inner }

    public func respond(to request: Request, context: Context) async throws -> Response {
        guard let path = request.head.path, let rewritten = Self.formDecoded(path) else {
            return try await inner.respond(to: request, context: context)
        }
        var head = request.head
        head.path = rewritten
        return try await inner.respond(to: Request(head: head, body: request.body), context: context)
    }

    /// The request target with every `+` of its query as `%20`; nil when there is nothing to change.
    public static func formDecoded(_ target: String) -> String? {
        guard let mark = target.firstIndex(of: "?") else { return nil }
        let query = target[mark...]
        guard query.contains("+") else { return nil }
        return String(target[..<mark]) + query.replacingOccurrences(of: "+", with: "%20")
    }
}
