import GlimpseCore
import GlimpseHTTP
import GlimpseStorage
import HTTPTypes
import Hummingbird

/// `/v3/auth/*`: issuing tokens (open), validating, checking and revoking them, and what a token may scope to.
struct TokensController: Sendable {
    let service: IdentityService
    let base: String

    func addOpenRoutes(to v3: RouterGroup<IdentityRequestContext>) {
        v3.post("auth/tokens", use: issue)
    }

    func addRoutes(to v3: RouterGroup<IdentityRequestContext>) {
        v3.get("auth/tokens", use: validate)
        v3.head("auth/tokens", use: check)
        v3.delete("auth/tokens", use: revoke)
        v3.get("auth/projects", use: projects)
        v3.get("auth/domains", use: domains)
        v3.get("auth/system", use: system)
        v3.get("auth/catalog", use: authCatalog)
    }

    func tokenResponse(
        _ request: Request, _ token: String, _ auth: AuthContext, status: HTTPResponse.Status
    ) async throws -> Response {
        let noCatalog = request.uri.queryParameters.has("nocatalog")
        let w = IdentityJSON.token(auth, catalog: noCatalog ? nil : try await service.catalog())
        var r = Response.json(w.buffer, status: status)
        r.headers[IdentityController.subjectToken] = token
        return r
    }

    @Sendable func issue(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let body = try await request.decodeJSONObject(context: context.glimpse)
        let (token, auth) = try await service.authenticate(try AuthRequest(body: body), from: context.glimpse.remoteIP)
        return try await tokenResponse(request, token, auth, status: .created)
    }

    @Sendable func validate(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let subject = request.headers[IdentityController.subjectToken]
        let target = try await service.subject(subject, by: try context.requireAuth(), action: "validate_token")
        return try await tokenResponse(request, subject ?? "", target, status: .ok)
    }

    @Sendable func check(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let subject = request.headers[IdentityController.subjectToken]
        _ = try await service.subject(subject, by: try context.requireAuth(), action: "check_token")
        return Response(status: .ok, headers: [IdentityController.subjectToken: subject ?? ""])
    }

    @Sendable func revoke(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let subject = request.headers[IdentityController.subjectToken]
        _ = try await service.subject(subject, by: try context.requireAuth(), action: "revoke_token")
        _ = try await service.revoke(subject ?? "")
        return Response(status: .noContent)
    }

    @Sendable func projects(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let projects = try await service.scopableProjects(try context.requireAuth())
        return IdentityResponse.list("projects", projects, url: base + "/auth/projects") { p, w in
            IdentityJSON.project(p, into: &w, base: base)
        }
    }

    @Sendable func domains(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let domains = try await service.scopableDomains(try context.requireAuth())
        return IdentityResponse.list("domains", domains, url: base + "/auth/domains") { d, w in
            IdentityJSON.domain(d, into: &w, base: base)
        }
    }

    /// `{"system": [{"all": true}]}` when the caller has a role on the system, else an empty list.
    @Sendable func system(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let scopable = try await service.canScopeToSystem(try context.requireAuth())
        return IdentityResponse.json { w in
            w.object { o in
                o.field("system", array: { a in if scopable { a.object { $0.field("all", true) } } })
                o.field("links", object: { $0.field("self", base + "/auth/system") })
            }
        }
    }

    @Sendable func authCatalog(_ request: Request, context: IdentityRequestContext) async throws -> Response {
        let auth = try context.requireAuth()
        guard auth.isScoped else {
            throw GlimpseError.forbidden("The service catalog is available to scoped tokens only.")
        }
        let catalog = try await service.catalog()
        return IdentityResponse.json { w in
            w.object { o in
                o.key("catalog")
                IdentityJSON.catalog(catalog, into: &o)
                o.listLinks(base + "/auth/catalog")
            }
        }
    }
}
