import Foundation
import GlimpseCore
import GlimpseHTTP
import HTTPTypes
import Hummingbird
import NIOCore

/// Glance's cache management API (Image API 2.14): `GET/DELETE /v2/cache`, `PUT/DELETE /v2/cache/{image_id}`.
/// Every call is admin only, as Glance's default policies have it (cache_list, cache_image, cache_delete).
public struct CacheController: Sendable {
    let service: ImageService
    let cache: ImageCache
    /// Cache changes hold on every node (each keeps its own cache).
    let fanOut: CacheFanOut

    /// Nil when the service has no cache (then the API is not mounted, and `/v2/cache` is 404 as in Glance).
    public init?(service: ImageService) {
        guard let cache = service.cache else { return nil }
        self.service = service
        self.cache = cache
        self.fanOut = CacheFanOut(service: service)
    }

    public func addRoutes(to v2: RouterGroup<GlimpseRequestContext>) {
        v2.get("cache", use: list)
        v2.delete("cache", use: clear)
        v2.put("cache/:id", use: queue)
        v2.delete("cache/:id", use: deleteEntry)
    }

    static let clearTargetHeader = HTTPField.Name("x-image-cache-clear-target")!

    static func enforce(_ action: String, _ caller: Caller) throws {
        guard caller.isAdmin else { throw GlimpseError.forbidden("You are not authorized to complete \(action) action.") }
    }

    @Sendable func list(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        try Self.enforce("cache_list", try context.requireCaller())
        let (cached, queued) = cache.contents()
        var w = JSONWriter()
        w.object { o in
            o.field("cached_images", array: { a in
                for e in cached {
                    a.object { i in
                        i.field("image_id", e.imageID)
                        i.field("hits", e.hits)
                        i.key("last_accessed")
                        i.raw(Self.number(e.lastAccessed))
                        i.key("last_modified")
                        i.raw(Self.number(e.lastModified))
                        i.field("size", e.size)
                    }
                }
            })
            o.field("queued_images", array: { a in for id in queued { a.value(id) } })
        }
        return .json(w.buffer)
    }

    /// A JSON number for seconds since the epoch (Glance's drivers keep them as floats).
    static func number(_ d: Double) -> String {
        d.isFinite ? "\(d)" : "0"
    }

    @Sendable func clear(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        try Self.enforce("cache_delete", try context.requireCaller())
        let target: ImageCache.ClearTarget
        switch (request.headers[Self.clearTargetHeader] ?? "").lowercased() {
        case "": target = .both
        case "cache": target = .cache
        case "queue": target = .queue
        default:
            throw GlimpseError.badRequest("If provided 'x-image-cache-clear-target' must be 'cache', 'queue' or empty string.")
        }
        await cache.clear(target)
        await fanOut.repeatOnPeers(request, logger: context.logger)
        return Response(status: .noContent)
    }

    /// Queues an active image for caching (Glance looks the image up first: 404 before 403).
    @Sendable func queue(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let image = try await service.visibleImage(try context.parameters.require("id"), caller: caller)
        try Self.enforce("cache_image", caller)
        guard image.status == .active else {
            throw GlimpseError.badRequest("Only images with status active can be targeted for queueing")
        }
        cache.enqueue(image.id)
        await fanOut.repeatOnPeers(request, logger: context.logger)
        return Response(status: .accepted)
    }

    /// Removes an image from the cache and the queue. An image that is gone can still be removed from them.
    @Sendable func deleteEntry(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = try context.parameters.require("id")
        var key = id
        do {
            key = try await service.visibleImage(id, caller: caller).id
        } catch let e as GlimpseError where e.kind == .notFound {
            guard cache.contains(id) else { throw GlimpseError.notFound("Image \(id) not found.") }
        }
        try Self.enforce("cache_delete", caller)
        await cache.remove(key)
        await fanOut.repeatOnPeers(request, logger: context.logger)
        return Response(status: .noContent)
    }
}
