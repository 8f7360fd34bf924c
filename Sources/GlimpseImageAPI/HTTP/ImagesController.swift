import Foundation
import HTTPTypes
import GlimpseCore
import GlimpseHTTP
import Hummingbird
import NIOCore

/// `/v2/images...`: images, their data, tags, actions and members.
public struct ImagesController: Sendable {
    let service: ImageService
    let publicURL: String

    public init(service: ImageService, publicURL: String) {
        self.service = service
        self.publicURL = publicURL
    }

    public func addRoutes(to v2: RouterGroup<GlimpseRequestContext>) {
        v2.get("images", use: list)
        v2.post("images", use: create)
        v2.get("images/:id", use: show)
        v2.patch("images/:id", use: update)
        v2.delete("images/:id", use: delete)
        v2.put("images/:id/file", use: upload)
        v2.get("images/:id/file", use: download)
        v2.head("images/:id/file") { _, _ in
            Response(status: .methodNotAllowed, headers: [.allow: "GET, PUT"])
        }
        v2.put("images/:id/tags/:tag", use: addTag)
        v2.delete("images/:id/tags/:tag", use: deleteTag)
        v2.post("images/:id/actions/deactivate", use: deactivate)
        v2.post("images/:id/actions/reactivate", use: reactivate)
        v2.get("images/:id/members", use: members)
        v2.post("images/:id/members", use: addMember)
        v2.get("images/:id/members/:member", use: member)
        v2.put("images/:id/members/:member", use: updateMember)
        v2.delete("images/:id/members/:member", use: deleteMember)
    }

    static let patchTypes = [
        "application/openstack-images-v2.1-json-patch", "application/openstack-images-v2.0-json-patch",
    ]

    // MARK: images

    @Sendable func list(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        // `GET /v2/images/` is an image with an empty id, not the list (Glance answers 404).
        if request.uri.path.hasSuffix("/") { throw GlimpseError.noImage("") }
        let items = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        let query = try ImageListQuery.parse(items)
        let images = try await service.list(query, caller: caller)
        let rawQuery = request.uri.query.map { "?" + $0 } ?? ""
        let first = "/v2/images" + rawQuery
        var next: String?
        if images.count == query.limit, query.limit > 0, let last = images.last {
            let kept = (request.uri.query ?? "").split(separator: "&").filter { !$0.hasPrefix("marker=") }
            next = "/v2/images?" + (kept + ["marker=\(last.id)"]).joined(separator: "&")
        }
        return .json(ImageJSON.list(images, first: first, next: next))
    }

    @Sendable func create(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let body = try await request.decodeJSONObject(context: context)
        let image = try await service.create(body, caller: caller)
        var response = Response.json(ImageJSON.image(image), status: .created)
        response.headers[.location] = publicURL + "/v2/images/" + image.id
        response.headers[HTTPField.Name("OpenStack-image-store-ids")!] = ImageJSON.storeID
        if !service.importOptions.methods.isEmpty {
            response.headers[HTTPField.Name("OpenStack-image-import-methods")!] =
                service.importOptions.methods.joined(separator: ",")
        }
        return response
    }

    @Sendable func show(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let image = try await service.visibleImage(try context.parameters.require("id"), caller: caller)
        return .json(ImageJSON.image(image))
    }

    @Sendable func update(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = try context.parameters.require("id")
        guard let type = request.mediaType, Self.patchTypes.contains(type) else {
            var r = OpenStackErrorMiddleware<GlimpseRequestContext>.response(
                for: .unsupportedMedia(
                    "The request media type \(request.mediaType ?? "(none)") is not supported by this server. Image PATCH expects Content-Type one of: \(Self.patchTypes.reversed().joined(separator: ", "))"))
            r.headers[HTTPField.Name("Accept-Patch")!] = Self.patchTypes.reversed().joined(separator: ", ")
            return r
        }
        let ops = try ImageRules.parsePatch(try await request.decodeJSON(context: context))
        let image = try await service.update(id, patch: ops, caller: caller)
        return .json(ImageJSON.image(image))
    }

    @Sendable func delete(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        try await service.delete(try context.parameters.require("id"), caller: try context.requireCaller())
        return Response(status: .noContent)
    }

    // MARK: data

    @Sendable func upload(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = try context.parameters.require("id")
        // Glance (`get_content_type`) refuses a missing Content-Type as well as a wrong one.
        guard let type = request.mediaType, type == "application/octet-stream" else {
            let type = request.mediaType ?? "None"
            throw GlimpseError.unsupportedMedia(
                "The request media type \(type) is not supported by this server. Invalid content type \(type)")
        }
        var declared: Int64?
        if let raw = request.headers[HTTPField.Name("X-OpenStack-Image-Size")!] {
            guard let n = Int64(raw), n >= 0 else {
                throw GlimpseError.badRequest("x-openstack-image-size must be a non-negative integer.")
            }
            declared = n
        }
        if let raw = request.headers[.contentLength], let n = Int64(raw), declared == nil { declared = n }
        _ = try await service.upload(id, body: request.body, declaredSize: declared, caller: caller)
        return Response(status: .noContent)
    }

    static let sendfileMinimum: Int64 = 256 * 1024

    @Sendable func download(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = try context.parameters.require("id")
        let range = request.headers[.range].flatMap(ByteRangeRequest.parse)
        let result: ImageService.Download
        do {
            result = try await service.download(id, range: range, caller: caller)
        } catch let e as GlimpseError where e.kind == .rangeNotSatisfiable {
            var r = OpenStackErrorMiddleware<GlimpseRequestContext>.response(for: e)
            if let image = try? await service.visibleImage(id, caller: caller), let size = image.size {
                r.headers[.contentRange] = "bytes */\(size)"
            }
            return r
        }
        guard let chunks = result.chunks else { return Response(status: .noContent) }
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        if let md5 = result.image.checksum { headers[HTTPField.Name("Content-MD5")!] = md5 }
        let length: Int64
        var status = HTTPResponse.Status.ok
        if let r = result.range {
            length = r.upperBound - r.lowerBound
            status = .partialContent
            headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound - 1)/\(result.totalSize)"
        } else {
            length = result.totalSize
        }
        headers[.contentLength] = String(length)
        // Whole files of some size go out with sendfile(2): no copy through memory (see SendfileRegistry).
        if request.method == .get, length >= Self.sendfileMinimum, let file = chunks.takeFile() {
            headers[HTTPField.Name(SendfileRegistry.header)!] =
                SendfileRegistry.shared.register(descriptor: file.descriptor, range: file.range)
            return Response(
                status: status, headers: headers,
                body: ResponseBody(contentLength: Int(length)) { writer in try await writer.finish(nil) })
        }
        return Response(
            status: status, headers: headers,
            body: ResponseBody(contentLength: Int(length)) { writer in
                for try await chunk in chunks { try await writer.write(chunk) }
                try await writer.finish(nil)
            })
    }

    // MARK: tags and actions

    @Sendable func addTag(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        try await service.addTag(
            try context.parameters.require("id"), tag: try context.parameters.decoded("tag"),
            caller: try context.requireCaller())
        return Response(status: .noContent)
    }

    @Sendable func deleteTag(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        try await service.deleteTag(
            try context.parameters.require("id"), tag: try context.parameters.decoded("tag"),
            caller: try context.requireCaller())
        return Response(status: .noContent)
    }

    @Sendable func deactivate(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        try await service.deactivate(try context.parameters.require("id"), caller: try context.requireCaller())
        return Response(status: .noContent)
    }

    @Sendable func reactivate(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        try await service.reactivate(try context.parameters.require("id"), caller: try context.requireCaller())
        return Response(status: .noContent)
    }

    // MARK: members

    @Sendable func members(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let ms = try await service.members(try context.parameters.require("id"), caller: try context.requireCaller())
        return .json(ImageJSON.members(ms))
    }

    @Sendable func addMember(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = try context.parameters.require("id")
        let body = try await request.decodeJSONObject(context: context)
        guard case .string(let member)? = body["member"] else {
            throw GlimpseError.badRequest("Member to be added not specified: the body needs a 'member' string.")
        }
        let m = try await service.addMember(id, member: member, caller: caller)
        return .json(ImageJSON.member(m))
    }

    @Sendable func member(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let m = try await service.member(
            try context.parameters.require("id"), member: try context.parameters.decoded("member"),
            caller: try context.requireCaller())
        return .json(ImageJSON.member(m))
    }

    @Sendable func updateMember(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let body = try await request.decodeJSONObject(context: context)
        guard case .string(let raw)? = body["status"] else {
            throw GlimpseError.badRequest("Status not specified: the body needs a 'status' string.")
        }
        guard let status = MemberStatus(rawValue: raw) else {
            throw GlimpseError.badRequest("Invalid status: \(raw). It must be one of pending, accepted, rejected.")
        }
        let m = try await service.updateMember(
            try context.parameters.require("id"), member: try context.parameters.decoded("member"), status: status,
            caller: caller)
        return .json(ImageJSON.member(m))
    }

    @Sendable func deleteMember(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        try await service.deleteMember(
            try context.parameters.require("id"), member: try context.parameters.decoded("member"),
            caller: try context.requireCaller())
        return Response(status: .noContent)
    }
}

extension Parameters {
    /// A path parameter, percent-decoded: Hummingbird hands parameters over as sent, Glance's router decodes them
    /// (`PUT /v2/images/{id}/tags/with%20space` tags the image "with space").
    func decoded(_ name: String) throws -> String {
        let raw = try require(name)
        return raw.removingPercentEncoding ?? raw
    }
}
