// The boot-test extension of the Compute API (not in Nova): `POST /v2.1/os-glimpse-boot-tests` starts a boot test
// of an image (202 with the test), `GET /v2.1/os-glimpse-boot-tests/{id}` shows where it stands. The rules and the
// run live in `ServerService+BootTest.swift`.

import Foundation
import GlimpseCore
import GlimpseHTTP
import Hummingbird

extension ComputeController {
    func addBootTestRoutes(to api: RouterGroup<GlimpseRequestContext>) {
        api.post("os-glimpse-boot-tests", use: startBootTest)
        api.get("os-glimpse-boot-tests/:id", use: showBootTest)
    }

    func startBootTest(_ request: Request, _ context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let body = try await request.decodeJSONObject(context: context)
        let test = try await service.startBootTest(try BootTestRequest.parse(body), caller: caller)
        var response = Self.json(.object([("boot_test", bootTestView(test))]), status: .accepted)
        response.headers[.location] = "\(views.base)/v2.1/os-glimpse-boot-tests/\(test.id)"
        return response
    }

    /// A test lives in the memory of the node that runs it. Behind a load balancer a poll may reach another node:
    /// one that does not know the test asks the other live nodes (once: a passed-on request is not passed on again),
    /// each of which checks the caller itself.
    func showBootTest(_ request: Request, _ context: GlimpseRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        do {
            let test = try await service.bootTest(id, caller: try context.requireCaller())
            return Self.json(.object([("boot_test", bootTestView(test))]))
        } catch let e as GlimpseError where e.kind == .notFound && request.headers[PeerRequest.forwardedBy] == nil {
            let passer = ServerHostForwardingMiddleware(service: service, client: Self.nodeClient)
            for lease in try await service.otherLiveNodes() {
                guard let answer = try? await passer.forward(request, to: lease.address, context: context),
                    answer.status != .notFound
                else { continue }
                return answer
            }
            throw e
        }
    }

    func bootTestView(_ t: BootTest) -> CJSON {
        func optional(_ s: String?) -> CJSON { s.map { .string($0) } ?? .null }
        let steps: [CJSON] = t.steps.map { step in
            .object([
                ("step", .string(step.name)), ("at", .string(NovaTime.iso(step.at))),
                ("elapsed", .double(Double(step.at - t.createdAt) / 1_000_000)), ("detail", .string(step.detail)),
            ])
        }
        return .object([
            ("id", .string(t.id)),
            ("status", .string(t.status.rawValue)),
            ("image_id", .string(t.imageID)),
            ("flavor_id", .string(t.flavorID)),
            ("server_id", optional(t.serverID)),
            ("timeout", .int(Int64(t.timeoutSeconds))),
            ("readiness", .string(t.readiness)),
            ("project_id", .string(t.projectID)),
            ("user_id", .string(t.userID)),
            ("created_at", .string(NovaTime.iso(t.createdAt))),
            ("finished_at", optional(t.finishedAt.map(NovaTime.iso))),
            ("reason", optional(t.reason)),
            ("image_updated", .bool(t.imageUpdated)),
            ("image_note", optional(t.imageNote)),
            ("steps", .array(steps)),
        ])
    }
}
