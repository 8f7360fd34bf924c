import Foundation
import GlimpseCore
import GlimpseHTTP
import GlimpseStorage
import HTTPTypes
import Hummingbird
import NIOCore

/// `/v2/metadefs/...` (the metadata definitions catalog) and `/v2/schemas/metadefs/*`.
public struct MetadefsController: Sendable {
    let service: MetadefService
    let publicURL: String

    public init(service: MetadefService, publicURL: String) {
        self.service = service
        self.publicURL = publicURL
    }

    public func addRoutes(to v2: RouterGroup<GlimpseRequestContext>) {
        for (name, document) in MetadefSchemas.all {
            let body = ByteBuffer(string: document)
            v2.get("schemas/metadefs/\(name)") { _, _ in Response.json(body) }
        }

        let ns = "metadefs/namespaces/:namespace"
        v2.get("metadefs/resource_types") { _, c in Self.ok(try await service.listResourceTypes(caller: c.requireCaller())) }

        v2.get("metadefs/namespaces", use: listNamespaces)
        v2.post("metadefs/namespaces", use: createNamespace)
        v2.get(RouterPath(ns)) { r, c in
            let name = try Self.param(c, "namespace")
            return Self.ok(
                try await service.showNamespace(name, resourceType: Self.query(r, "resource_type"), caller: c.requireCaller()))
        }
        v2.put(RouterPath(ns)) { r, c in
            let body = try await r.decodeJSONObject(context: c)
            return Self.ok(try await service.updateNamespace(Self.param(c, "namespace"), body: body, caller: c.requireCaller()))
        }
        v2.delete(RouterPath(ns)) { _, c in
            try await service.deleteNamespace(Self.param(c, "namespace"), caller: c.requireCaller())
            return Response(status: .noContent)
        }

        // objects
        v2.get(RouterPath(ns + "/objects")) { r, c in
            Self.ok(try await service.listObjects(Self.param(c, "namespace"), query: Self.items(r), caller: c.requireCaller()))
        }
        v2.post(RouterPath(ns + "/objects")) { r, c in
            let body = try await r.decodeJSONObject(context: c)
            return Self.ok(
                try await service.createObject(Self.param(c, "namespace"), body: body, caller: c.requireCaller()),
                status: .created)
        }
        v2.delete(RouterPath(ns + "/objects")) { _, c in
            try await service.deleteContent(.objects, namespace: Self.param(c, "namespace"), caller: c.requireCaller())
            return Response(status: .noContent)
        }
        v2.get(RouterPath(ns + "/objects/:name")) { _, c in
            Self.ok(
                try await service.showObject(
                    Self.param(c, "namespace"), object: Self.param(c, "name"), caller: c.requireCaller()))
        }
        v2.put(RouterPath(ns + "/objects/:name")) { r, c in
            let body = try await r.decodeJSONObject(context: c)
            return Self.ok(
                try await service.updateObject(
                    Self.param(c, "namespace"), object: Self.param(c, "name"), body: body, caller: c.requireCaller()))
        }
        v2.delete(RouterPath(ns + "/objects/:name")) { _, c in
            try await service.deleteObject(Self.param(c, "namespace"), object: Self.param(c, "name"), caller: c.requireCaller())
            return Response(status: .noContent)
        }

        // properties
        v2.get(RouterPath(ns + "/properties")) { _, c in
            Self.ok(try await service.listProperties(Self.param(c, "namespace"), caller: c.requireCaller()))
        }
        v2.post(RouterPath(ns + "/properties")) { r, c in
            let body = try await r.decodeJSONObject(context: c)
            return Self.ok(
                try await service.createProperty(Self.param(c, "namespace"), body: body, caller: c.requireCaller()),
                status: .created)
        }
        v2.delete(RouterPath(ns + "/properties")) { _, c in
            try await service.deleteContent(.properties, namespace: Self.param(c, "namespace"), caller: c.requireCaller())
            return Response(status: .noContent)
        }
        v2.get(RouterPath(ns + "/properties/:name")) { r, c in
            Self.ok(
                try await service.showProperty(
                    Self.param(c, "namespace"), property: Self.param(c, "name"),
                    resourceType: Self.query(r, "resource_type"), caller: c.requireCaller()))
        }
        v2.put(RouterPath(ns + "/properties/:name")) { r, c in
            let body = try await r.decodeJSONObject(context: c)
            return Self.ok(
                try await service.updateProperty(
                    Self.param(c, "namespace"), property: Self.param(c, "name"), body: body, caller: c.requireCaller()))
        }
        v2.delete(RouterPath(ns + "/properties/:name")) { _, c in
            try await service.deleteProperty(
                Self.param(c, "namespace"), property: Self.param(c, "name"), caller: c.requireCaller())
            return Response(status: .noContent)
        }

        // tags
        v2.get(RouterPath(ns + "/tags")) { r, c in
            Self.ok(try await service.listTags(Self.param(c, "namespace"), query: Self.items(r), caller: c.requireCaller()))
        }
        v2.post(RouterPath(ns + "/tags")) { r, c in
            let body = try await r.decodeJSONObject(context: c)
            let append = Self.truthy(r.headers[HTTPField.Name("X-Openstack-Append")!])
            return Self.ok(
                try await service.createTags(
                    Self.param(c, "namespace"), body: body, append: append, caller: c.requireCaller()),
                status: .created)
        }
        v2.delete(RouterPath(ns + "/tags")) { _, c in
            try await service.deleteContent(.tags, namespace: Self.param(c, "namespace"), caller: c.requireCaller())
            return Response(status: .noContent)
        }
        v2.get(RouterPath(ns + "/tags/:name")) { _, c in
            Self.ok(try await service.showTag(Self.param(c, "namespace"), tag: Self.param(c, "name"), caller: c.requireCaller()))
        }
        v2.post(RouterPath(ns + "/tags/:name")) { _, c in
            Self.ok(
                try await service.createTag(Self.param(c, "namespace"), tag: Self.param(c, "name"), caller: c.requireCaller()),
                status: .created)
        }
        v2.put(RouterPath(ns + "/tags/:name")) { r, c in
            let body = try await r.decodeJSONObject(context: c)
            return Self.ok(
                try await service.updateTag(
                    Self.param(c, "namespace"), tag: Self.param(c, "name"), body: body, caller: c.requireCaller()))
        }
        v2.delete(RouterPath(ns + "/tags/:name")) { _, c in
            try await service.deleteTag(Self.param(c, "namespace"), tag: Self.param(c, "name"), caller: c.requireCaller())
            return Response(status: .noContent)
        }

        // resource type associations
        v2.get(RouterPath(ns + "/resource_types")) { _, c in
            Self.ok(try await service.listAssociations(Self.param(c, "namespace"), caller: c.requireCaller()))
        }
        v2.post(RouterPath(ns + "/resource_types")) { r, c in
            let body = try await r.decodeJSONObject(context: c)
            return Self.ok(
                try await service.addAssociation(Self.param(c, "namespace"), body: body, caller: c.requireCaller()),
                status: .created)
        }
        v2.delete(RouterPath(ns + "/resource_types/:name")) { _, c in
            try await service.removeAssociation(
                Self.param(c, "namespace"), resourceType: Self.param(c, "name"), caller: c.requireCaller())
            return Response(status: .noContent)
        }
    }

    @Sendable func listNamespaces(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let items = Self.items(request)
        let parameters = try MetadefService.ListParameters(items)
        let (namespaces, next) = try await service.listNamespaces(parameters, caller: caller)
        let kept = (request.uri.query ?? "").split(separator: "&").filter { !$0.hasPrefix("marker=") }.map(String.init)
        var members: [(String, MetadefOut)] = [("namespaces", namespaces)]
        if let next {
            members.append(("next", .string("/v2/metadefs/namespaces?" + (kept + ["marker=\(Self.encode(next))"]).joined(separator: "&"))))
        }
        members.append(("schema", .string("/v2/schemas/metadefs/namespaces")))
        members.append(("first", .string("/v2/metadefs/namespaces" + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&")))))
        return Self.ok(.object(members))
    }

    @Sendable func createNamespace(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let body = try await request.decodeJSONObject(context: context)
        let (out, href) = try await service.createNamespace(body, caller: caller)
        var response = Self.ok(out, status: .created)
        response.headers[.location] = publicURL + href
        return response
    }

    static func ok(_ out: MetadefOut, status: HTTPResponse.Status = .ok) -> Response {
        .json(out.buffer, status: status)
    }

    /// A path parameter, percent-decoded (the router matches the raw path).
    static func param(_ context: GlimpseRequestContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }

    static func items(_ request: Request) -> [(String, String)] {
        request.uri.queryParameters.map { (String($0.key), String($0.value)) }
    }

    static func query(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters[name[...]].map(String.init)
    }

    /// oslo's `bool_from_string`.
    static func truthy(_ value: String?) -> Bool {
        guard let v = value?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        return ["1", "t", "true", "on", "y", "yes"].contains(v)
    }

    static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}
