import Foundation
import GlimpseCore
import GlimpseHTTP
import HTTPTypes
import Hummingbird
import NIOCore

/// The interoperable import API and tasks: `/v2/images/{id}/stage`, `/import`, `/tasks`, and `/v2/tasks`.
public struct ImportController: Sendable {
    let service: ImageService

    public init(service: ImageService) { self.service = service }

    public func addRoutes(to v2: RouterGroup<GlimpseRequestContext>) {
        v2.put("images/:id/stage", use: stage)
        v2.post("images/:id/import", use: startImport)
        v2.get("images/:id/tasks", use: imageTasks)
        v2.get("tasks", use: listTasks)
        v2.post("tasks", use: createTask)
        v2.get("tasks/:id", use: showTask)
        let methods = service.importOptions.methods
        v2.get("info/import") { _, _ in
            var w = JSONWriter()
            w.object { o in
                o.field("import-methods", object: { m in
                    m.field("description", "Import methods available.")
                    m.field("type", "array")
                    m.field("value", array: { a in for name in methods { a.value(name) } })
                })
            }
            return Response.json(w.buffer)
        }
    }

    @Sendable func stage(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        if let type = request.mediaType, type != "application/octet-stream" {
            throw GlimpseError.unsupportedMedia("The request media type \(type) is not supported by this server.")
        }
        let declared = request.headers[HTTPField.Name("X-OpenStack-Image-Size")!].flatMap { Int64($0) }
        try await service.stage(try context.parameters.require("id"), body: request.body, declaredSize: declared, caller: caller)
        return Response(status: .noContent)
    }

    @Sendable func startImport(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let body = try await request.decodeJSONObject(context: context)
        _ = try await service.startImport(
            try context.parameters.require("id"), request: body, caller: caller, requestID: context.requestID)
        return Response(status: .accepted)
    }

    @Sendable func imageTasks(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let tasks = try await service.imageTasks(try context.parameters.require("id"), caller: try context.requireCaller())
        var w = JSONWriter()
        w.object { o in o.field("tasks", array: { a in for t in tasks { Self.write(t, into: &a) } }) }
        return .json(w.buffer)
    }

    @Sendable func listTasks(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let tasks = try await service.tasks(caller: try context.requireCaller())
        var w = JSONWriter()
        w.object { o in
            o.field("tasks", array: { a in for t in tasks { Self.write(t, into: &a) } })
            o.field("first", "/v2/tasks")
            o.field("schema", "/v2/schemas/tasks")
        }
        return .json(w.buffer)
    }

    /// The legacy task-based import is not offered: Glance's interoperable import replaces it.
    @Sendable func createTask(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        guard caller.isAdmin else {
            throw GlimpseError.forbidden("You are not authorized to complete tasks_api_access action.")
        }
        let body = try await request.decodeJSONObject(context: context)
        guard case .string(let type)? = body["type"] else { throw GlimpseError.badRequest("Task 'type' is required.") }
        throw GlimpseError.badRequest(
            "Task type '\(type)' is not supported: use the image import API (POST /v2/images/{image_id}/import).")
    }

    @Sendable func showTask(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let task = try await service.task(try context.parameters.require("id"), caller: try context.requireCaller())
        var w = JSONWriter()
        Self.write(task, into: &w)
        return .json(w.buffer)
    }

    static func write(_ t: ImageTask, into w: inout JSONWriter) {
        w.object { o in
            o.field("id", t.id)
            o.field("type", t.type)
            o.field("status", t.status.rawValue)
            o.field("owner", t.owner)
            o.field("image_id", t.imageID)
            o.field("request_id", t.requestID)
            o.field("user_id", t.userID)
            o.key("input")
            o.raw(t.input)
            o.key("result")
            if let r = t.result { o.raw(r) } else { o.null() }
            o.field("message", t.message)
            o.field("created_at", t.createdAt.iso8601)
            o.field("updated_at", t.updatedAt.iso8601)
            o.field("expires_at", t.expiresAt?.iso8601)
            o.field("self", "/v2/tasks/\(t.id)")
            o.field("schema", "/v2/schemas/task")
        }
    }
}
