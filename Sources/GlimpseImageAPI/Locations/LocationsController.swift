import GlimpseCore
import GlimpseHTTP
import Hummingbird
import NIOCore

/// Image API 2.17 locations: `POST /v2/images/{id}/locations` (202) and `GET /v2/images/{id}/locations`.
public struct LocationsController: Sendable {
    let service: ImageService

    public init(service: ImageService) { self.service = service }

    public func addRoutes(to v2: RouterGroup<GlimpseRequestContext>) {
        v2.post("images/:id/locations", use: add)
        v2.get("images/:id/locations", use: list)
    }

    @Sendable func add(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let body = try await request.decodeJSONObject(context: context)
        try await service.addLocation(
            try context.parameters.require("id"), request: body, caller: caller, requestID: context.requestID)
        return Response(status: .accepted)
    }

    @Sendable func list(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let locations = try await service.locations(try context.parameters.require("id"), caller: try context.requireCaller())
        var w = JSONWriter()
        w.array { a in
            for l in locations {
                a.object { o in
                    o.field("url", l.url)
                    o.key("metadata")
                    o.raw(l.metadataJSON)
                }
            }
        }
        return .json(w.buffer)
    }
}
