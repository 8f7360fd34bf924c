import Foundation
import GlimpseCore
import GlimpseHTTP
import GlimpseStorage
import HTTPTypes
import Hummingbird
import NIOCore

/// Renders errors under `/identity` as Keystone does: `{"error": {"code": 404, "message": ..., "title": ...}}`,
/// with `WWW-Authenticate: Keystone uri=...` on 401.
public struct KeystoneErrorMiddleware: RouterMiddleware {
    public typealias Context = GlimpseRequestContext
    let authURI: String

    public init(authURI: String) { self.authURI = authURI }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as GlimpseError {
            if error.kind == .internalError { context.logger.error("internal error: \(error.message)") }
            return response(OpenStackErrorMiddleware<Context>.status(of: error.kind), error.message)
        } catch let error as HTTPError {
            return response(error.status, error.body ?? error.status.reasonPhrase)
        }
    }

    func response(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var w = JSONWriter()
        w.object { o in
            o.field("error", object: { e in
                e.field("code", Int64(status.code))
                e.field("message", message)
                e.field("title", status.reasonPhrase)
            })
        }
        var r = Response.json(w.buffer, status: status)
        if status == .unauthorized { r.headers[.wwwAuthenticate] = "Keystone uri=\"\(authURI)\"" }
        return r
    }
}

/// The Identity API v3 subset under `/identity`.
public struct IdentityController: Sendable {
    let service: IdentityService
    let catalog: ServiceCatalog
    /// `<public>/identity/v3`
    let base: String
    let root: String

    public static let subjectToken = HTTPField.Name("X-Subject-Token")!
    public static let authToken = HTTPField.Name("X-Auth-Token")!

    public init(service: IdentityService) {
        self.service = service
        self.catalog = ServiceCatalog(publicURL: service.options.publicURL, region: service.options.region)
        self.root = service.options.publicURL + "/identity"
        self.base = root + "/v3"
    }

    public func addRoutes(to router: Router<GlimpseRequestContext>) {
        let versions = versionList()
        let version = versionDocument()
        let location = base + "/"
        router.get("identity") { _, _ in
            var r = Response.json(versions, status: .multipleChoices)
            r.headers[.location] = location
            return r
        }
        router.get("identity/v3") { _, _ in Response.json(version) }
        let v3 = router.group("identity/v3").add(middleware: KeystoneErrorMiddleware(authURI: root))
        v3.post("auth/tokens", use: issueToken)
        v3.get("auth/tokens", use: validateToken)
        v3.head("auth/tokens", use: checkToken)
        v3.delete("auth/tokens", use: revokeToken)
        v3.get("auth/projects", use: authProjects)
        v3.get("auth/domains") { [base] _, _ in
            var w = JSONWriter()
            w.object { o in
                o.field("domains", array: { _ in })
                o.listLinks(base + "/auth/domains")
            }
            return Response.json(w.buffer)
        }
        v3.get("auth/catalog", use: authCatalog)

        v3.get("domains", use: listDomains)
        v3.post("domains", use: createDomain)
        v3.get("domains/:id", use: showDomain)

        v3.get("projects", use: listProjects)
        v3.post("projects", use: createProject)
        v3.get("projects/:id", use: showProject)
        v3.patch("projects/:id", use: updateProject)
        v3.delete("projects/:id", use: deleteProject)
        v3.get("projects/:id/users/:user/roles", use: listGrants)
        v3.put("projects/:id/users/:user/roles/:role", use: grant)
        v3.get("projects/:id/users/:user/roles/:role", use: checkGrant)
        v3.head("projects/:id/users/:user/roles/:role", use: checkGrant)
        v3.delete("projects/:id/users/:user/roles/:role", use: revokeGrant)

        v3.get("users", use: listUsers)
        v3.post("users", use: createUser)
        v3.get("users/:id", use: showUser)
        v3.patch("users/:id", use: updateUser)
        v3.delete("users/:id", use: deleteUser)
        v3.get("users/:id/projects", use: userProjects)
        v3.post("users/:id/password", use: changePassword)

        v3.get("roles", use: listRoles)
        v3.post("roles", use: createRole)
        v3.get("roles/:id", use: showRole)
        v3.delete("roles/:id", use: deleteRole)
        v3.get("role_assignments", use: listAssignments)

        v3.get("services", use: listServices)
        v3.get("services/:id", use: showService)
        v3.get("endpoints", use: listEndpoints)
        v3.get("regions", use: listRegions)
        v3.get("regions/:id", use: showRegion)
    }

    // MARK: version documents

    func versionEntry(_ w: inout JSONWriter) {
        w.object { v in
            v.field("id", "v3.14")
            v.field("status", "stable")
            v.field("updated", "2020-04-07T00:00:00Z")
            v.field("links", array: { l in
                l.object { link in
                    link.field("rel", "self")
                    link.field("href", base + "/")
                }
            })
            v.field("media-types", array: { m in
                m.object { t in
                    t.field("base", "application/json")
                    t.field("type", "application/vnd.openstack.identity-v3+json")
                }
            })
        }
    }

    func versionList() -> ByteBuffer {
        var w = JSONWriter()
        w.object { o in
            o.field("versions", object: { vs in
                vs.key("values")
                vs.array { a in versionEntry(&a) }
            })
        }
        return w.buffer
    }

    func versionDocument() -> ByteBuffer {
        var w = JSONWriter()
        w.object { o in
            o.key("version")
            versionEntry(&o)
        }
        return w.buffer
    }

    // MARK: helpers

    func requireAuth(_ request: Request) async throws -> AuthContext {
        guard let token = request.headers[Self.authToken], let auth = try await service.validate(token) else {
            throw GlimpseError.unauthorized("The request you have made requires authentication.")
        }
        return auth
    }

    static func forbidden(_ action: String) -> GlimpseError {
        .forbidden("You are not authorized to perform the requested action: identity:\(action).")
    }

    func requireAdmin(_ request: Request, _ action: String) async throws -> AuthContext {
        let auth = try await requireAuth(request)
        guard auth.isAdmin else { throw Self.forbidden(action) }
        return auth
    }

    static func object(_ body: [String: JSONValue], _ key: String) throws -> [String: JSONValue] {
        guard case .object(let o)? = body[key] else {
            throw GlimpseError.badRequest("Invalid input for field '\(key)': the request body must contain an object '\(key)'.")
        }
        return o
    }

    static func string(_ o: [String: JSONValue]?, _ key: String) -> String? {
        if case .string(let s)? = o?[key] { return s }
        return nil
    }

    static func bool(_ o: [String: JSONValue], _ key: String) throws -> Bool? {
        switch o[key] {
        case nil: return nil
        case .bool(let b): return b
        default: throw GlimpseError.badRequest("Invalid input for field '\(key)': expected a boolean.")
        }
    }

    static func sub(_ o: [String: JSONValue]?, _ key: String) -> [String: JSONValue]? {
        if case .object(let s)? = o?[key] { return s }
        return nil
    }

    func query(_ request: Request, _ key: String) -> String? {
        request.uri.queryParameters[key[...]].map(String.init)
    }

    func enabledFilter(_ request: Request) -> Bool? {
        guard let v = query(request, "enabled")?.lowercased() else { return nil }
        return !["0", "false", "f", "no", "n", "off"].contains(v)
    }

    func json(_ status: HTTPResponse.Status = .ok, _ body: (inout JSONWriter) -> Void) -> Response {
        var w = JSONWriter()
        body(&w)
        return Response.json(w.buffer, status: status)
    }

    // MARK: tokens

    @Sendable func issueToken(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let body = try await request.decodeJSONObject(context: context)
        let auth = try Self.object(body, "auth")
        let identity = try Self.object(auth, "identity")
        guard case .array(let m)? = identity["methods"] else {
            throw GlimpseError.badRequest("Invalid input for field 'identity/methods': 'methods' is a required property.")
        }
        let methods = m.compactMap { if case .string(let s) = $0 { s } else { nil } }
        let user: IdentityUser
        var tokenMethods: [String]
        var expiresAt: Timestamp?
        var parentAudit: String?
        var defaultScope = IdentityService.Scope.defaultProject
        if methods.contains("password") {
            let pu = Self.sub(Self.sub(identity, "password"), "user")
            guard let pu, let password = Self.string(pu, "password") else {
                throw GlimpseError.badRequest("Invalid input for field 'identity/password/user': missing user or password.")
            }
            let domain = Self.sub(pu, "domain")
            if Self.string(pu, "id") == nil, Self.string(pu, "name") != nil, domain == nil {
                throw GlimpseError.badRequest("Expecting to find domain in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
            }
            user = try await service.authenticatePassword(
                userID: Self.string(pu, "id"), userName: Self.string(pu, "name"), domainID: Self.string(domain, "id"),
                domainName: Self.string(domain, "name"), password: password)
            tokenMethods = ["password"]
        } else if methods.contains("token") {
            guard let id = Self.string(Self.sub(identity, "token"), "id"), let prior = try await service.validate(id) else {
                throw GlimpseError.unauthorized("The request you have made requires authentication.")
            }
            user = prior.user
            tokenMethods = prior.token.methods
            if !tokenMethods.contains("token") { tokenMethods.insert("token", at: 0) }
            expiresAt = prior.token.expiresAt
            parentAudit = prior.token.auditID
            defaultScope = .unscoped
        } else {
            throw GlimpseError.unauthorized("Attempted to authenticate with an unsupported method.")
        }
        let scope: IdentityService.Scope
        switch auth["scope"] {
        case nil, .null?:
            scope = defaultScope
        case .string("unscoped")?:
            scope = .unscoped
        case .object(let s)?:
            if let p = Self.sub(s, "project") {
                if let id = Self.string(p, "id") {
                    scope = .projectID(id)
                } else if let name = Self.string(p, "name") {
                    let d = Self.sub(p, "domain")
                    guard d != nil else {
                        throw GlimpseError.badRequest("Expecting to find domain in project. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
                    }
                    scope = .projectName(name, domainID: Self.string(d, "id"), domainName: Self.string(d, "name"))
                } else {
                    throw GlimpseError.badRequest("Expecting to find id or name in project.")
                }
            } else if s["domain"] != nil || s["system"] != nil || s["OS-TRUST:trust"] != nil {
                throw GlimpseError.unauthorized("Glimpse issues project-scoped and unscoped tokens only.")
            } else {
                throw GlimpseError.badRequest("Invalid scope.")
            }
        default:
            throw GlimpseError.badRequest("Invalid scope.")
        }
        let (token, ctx) = try await service.issueToken(
            user: user, scope: scope, methods: tokenMethods, expiresAt: expiresAt, parentAuditID: parentAudit)
        let noCatalog = request.uri.queryParameters.has("nocatalog")
        let w = IdentityJSON.token(ctx, catalog: noCatalog ? nil : catalog)
        var r = Response.json(w.buffer, status: .created)
        r.headers[Self.subjectToken] = token
        return r
    }

    /// The caller and the subject token, with Keystone's `service_admin_or_token_subject` rule applied.
    func subject(_ request: Request, action: String) async throws -> (AuthContext, AuthContext, String) {
        let auth = try await requireAuth(request)
        guard let subject = request.headers[Self.subjectToken] else {
            throw GlimpseError.notFound("Could not find token: X-Subject-Token header is missing.")
        }
        guard let target = try await service.validate(subject) else {
            throw GlimpseError.notFound("Could not recognize token.")
        }
        guard auth.isAdmin || auth.roleNames.contains("service") || auth.user.id == target.user.id else {
            throw Self.forbidden(action)
        }
        return (auth, target, subject)
    }

    @Sendable func validateToken(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let (_, target, subject) = try await subject(request, action: "validate_token")
        let noCatalog = request.uri.queryParameters.has("nocatalog")
        let w = IdentityJSON.token(target, catalog: noCatalog ? nil : catalog)
        var r = Response.json(w.buffer)
        r.headers[Self.subjectToken] = subject
        return r
    }

    @Sendable func checkToken(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let (_, _, subject) = try await subject(request, action: "check_token")
        return Response(status: .ok, headers: [Self.subjectToken: subject])
    }

    @Sendable func revokeToken(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let (_, _, subject) = try await subject(request, action: "revoke_token")
        _ = try await service.revoke(subject)
        return Response(status: .noContent)
    }

    func projectsList(_ projects: [IdentityProject], url: String) -> Response {
        json { w in
            w.object { o in
                o.key("projects")
                o.array { a in for p in projects { IdentityJSON.project(p, into: &a, base: base) } }
                o.listLinks(url)
            }
        }
    }

    func projectsOf(user: String) async throws -> [IdentityProject] {
        let ids = Set(try await service.store.assignments(userID: user, projectID: nil, roleID: nil).map(\.projectID))
        return try await service.store.projects().filter { ids.contains($0.id) }
    }

    @Sendable func authProjects(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let auth = try await requireAuth(request)
        return projectsList(try await projectsOf(user: auth.user.id).filter(\.enabled), url: base + "/auth/projects")
    }

    @Sendable func authCatalog(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let auth = try await requireAuth(request)
        guard auth.project != nil else { throw GlimpseError.forbidden("The service catalog is available to scoped tokens only.") }
        return json { w in
            w.object { o in
                o.key("catalog")
                IdentityJSON.catalog(catalog, into: &o)
                o.listLinks(base + "/auth/catalog")
            }
        }
    }

    // MARK: domains

    @Sendable func listDomains(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "list_domains")
        var domains = try await service.store.domains()
        if let n = query(request, "name") { domains = domains.filter { $0.name == n } }
        if let e = enabledFilter(request) { domains = domains.filter { $0.enabled == e } }
        return json { w in
            w.object { o in
                o.key("domains")
                o.array { a in for d in domains { IdentityJSON.domain(d, into: &a, base: base) } }
                o.listLinks(base + "/domains")
            }
        }
    }

    @Sendable func showDomain(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let auth = try await requireAuth(request)
        let id = try context.parameters.require("id")
        guard auth.isAdmin || auth.project?.domainID == id || auth.user.domainID == id else {
            throw Self.forbidden("get_domain")
        }
        guard let d = try await service.store.domain(id: id) else { throw GlimpseError.notFound("Could not find domain: \(id).") }
        return json { w in w.object { o in o.key("domain"); IdentityJSON.domain(d, into: &o, base: base) } }
    }

    @Sendable func createDomain(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "create_domain")
        let body = try Self.object(try await request.decodeJSONObject(context: context), "domain")
        guard let name = Self.string(body, "name"), !name.isEmpty else {
            throw GlimpseError.badRequest("Invalid input for field 'name': 'name' is a required property.")
        }
        let d = IdentityDomain(
            id: TokenCodec.newID(), name: name, description: Self.string(body, "description") ?? "",
            enabled: try Self.bool(body, "enabled") ?? true)
        try await service.store.insertDomain(d)
        return json(.created) { w in w.object { o in o.key("domain"); IdentityJSON.domain(d, into: &o, base: base) } }
    }

    // MARK: projects

    @Sendable func listProjects(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "list_projects")
        var projects = try await service.store.projects()
        if let n = query(request, "name") { projects = projects.filter { $0.name == n } }
        if let d = query(request, "domain_id") { projects = projects.filter { $0.domainID == d } }
        if let e = enabledFilter(request) { projects = projects.filter { $0.enabled == e } }
        return projectsList(projects, url: base + "/projects")
    }

    static let projectFields: Set<String> = ["id", "name", "domain_id", "description", "enabled", "parent_id", "is_domain", "tags", "options", "links"]

    @Sendable func createProject(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "create_project")
        let body = try Self.object(try await request.decodeJSONObject(context: context), "project")
        guard let name = Self.string(body, "name"), !name.isEmpty, name.count <= 64 else {
            throw GlimpseError.badRequest("Invalid input for field 'name': 'name' is a required property of 1 to 64 characters.")
        }
        let domainID = Self.string(body, "domain_id") ?? Self.string(body, "parent_id") ?? IdentityService.defaultDomainID
        guard try await service.store.domain(id: domainID) != nil else {
            throw GlimpseError.notFound("Could not find domain: \(domainID).")
        }
        let extra = body.filter { !Self.projectFields.contains($0.key) }
        let p = IdentityProject(
            id: TokenCodec.newID(), name: name, domainID: domainID, description: Self.string(body, "description") ?? "",
            enabled: try Self.bool(body, "enabled") ?? true, extraJSON: IdentityJSON.encode(extra))
        do {
            try await service.store.insertProject(p)
        } catch let e as GlimpseError where e.kind == .conflict {
            throw GlimpseError.conflict("Conflict occurred attempting to store project - Duplicate entry found with name \(name) at domain ID \(domainID).")
        }
        return json(.created) { w in w.object { o in o.key("project"); IdentityJSON.project(p, into: &o, base: base) } }
    }

    @Sendable func showProject(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let auth = try await requireAuth(request)
        let id = try context.parameters.require("id")
        if !auth.isAdmin, auth.project?.id != id {
            guard try await !service.store.assignments(userID: auth.user.id, projectID: id, roleID: nil).isEmpty else {
                throw Self.forbidden("get_project")
            }
        }
        guard let p = try await service.store.project(id: id) else { throw GlimpseError.notFound("Could not find project: \(id).") }
        return json { w in w.object { o in o.key("project"); IdentityJSON.project(p, into: &o, base: base) } }
    }

    @Sendable func updateProject(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "update_project")
        let id = try context.parameters.require("id")
        let body = try Self.object(try await request.decodeJSONObject(context: context), "project")
        guard var p = try await service.store.project(id: id) else { throw GlimpseError.notFound("Could not find project: \(id).") }
        if let n = Self.string(body, "name") { p.name = n }
        if let d = Self.string(body, "description") { p.description = d }
        if let e = try Self.bool(body, "enabled") { p.enabled = e }
        var extra = IdentityJSON.extras(p.extraJSON)
        for (k, v) in body where !Self.projectFields.contains(k) { extra[k] = v }
        p.extraJSON = IdentityJSON.encode(extra)
        try await service.store.updateProject(p)
        service.invalidateCache()
        return json { w in w.object { o in o.key("project"); IdentityJSON.project(p, into: &o, base: base) } }
    }

    @Sendable func deleteProject(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "delete_project")
        let id = try context.parameters.require("id")
        guard try await service.store.deleteProject(id: id) else { throw GlimpseError.notFound("Could not find project: \(id).") }
        service.invalidateCache()
        return Response(status: .noContent)
    }

    // MARK: grants

    func grantTarget(_ context: GlimpseRequestContext) async throws -> IdentityRoleAssignment {
        let p = try context.parameters.require("id")
        let u = try context.parameters.require("user")
        let r = try context.parameters.require("role")
        guard try await service.store.project(id: p) != nil else { throw GlimpseError.notFound("Could not find project: \(p).") }
        guard try await service.store.user(id: u) != nil else { throw GlimpseError.notFound("Could not find user: \(u).") }
        guard try await service.store.roles().contains(where: { $0.id == r }) else {
            throw GlimpseError.notFound("Could not find role: \(r).")
        }
        return IdentityRoleAssignment(userID: u, projectID: p, roleID: r)
    }

    @Sendable func grant(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "create_grant")
        _ = try await service.store.grant(try await grantTarget(context))
        service.invalidateCache()
        return Response(status: .noContent)
    }

    @Sendable func checkGrant(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "check_grant")
        let a = try await grantTarget(context)
        guard try await !service.store.assignments(userID: a.userID, projectID: a.projectID, roleID: a.roleID).isEmpty else {
            throw GlimpseError.notFound("Could not find role assignment with role: \(a.roleID), user or group: \(a.userID), project, domain, or system: \(a.projectID).")
        }
        return Response(status: .noContent)
    }

    @Sendable func revokeGrant(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "revoke_grant")
        let a = try await grantTarget(context)
        guard try await service.store.revoke(a) else {
            throw GlimpseError.notFound("Could not find role assignment with role: \(a.roleID), user or group: \(a.userID), project, domain, or system: \(a.projectID).")
        }
        service.invalidateCache()
        return Response(status: .noContent)
    }

    @Sendable func listGrants(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "list_grants")
        let p = try context.parameters.require("id")
        let u = try context.parameters.require("user")
        let ids = Set(try await service.store.assignments(userID: u, projectID: p, roleID: nil).map(\.roleID))
        let roles = try await service.store.roles().filter { ids.contains($0.id) }
        return rolesList(roles, url: base + "/projects/\(p)/users/\(u)/roles")
    }

    // MARK: users

    static let userFields: Set<String> = ["id", "name", "domain_id", "enabled", "default_project_id", "password", "password_expires_at", "options", "links"]

    @Sendable func listUsers(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "list_users")
        var users = try await service.store.users()
        if let n = query(request, "name") { users = users.filter { $0.name == n } }
        if let d = query(request, "domain_id") { users = users.filter { $0.domainID == d } }
        if let e = enabledFilter(request) { users = users.filter { $0.enabled == e } }
        return json { w in
            w.object { o in
                o.key("users")
                o.array { a in for u in users { IdentityJSON.user(u, into: &a, base: base) } }
                o.listLinks(base + "/users")
            }
        }
    }

    @Sendable func createUser(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "create_user")
        let body = try Self.object(try await request.decodeJSONObject(context: context), "user")
        guard let name = Self.string(body, "name"), !name.isEmpty, name.count <= 255 else {
            throw GlimpseError.badRequest("Invalid input for field 'name': 'name' is a required property.")
        }
        let domainID = Self.string(body, "domain_id") ?? IdentityService.defaultDomainID
        guard try await service.store.domain(id: domainID) != nil else {
            throw GlimpseError.notFound("Could not find domain: \(domainID).")
        }
        var hash: String?
        if let pw = Self.string(body, "password") {
            hash = try await PasswordHasher.hash(pw, rounds: service.options.passwordRounds)
        }
        let extra = body.filter { !Self.userFields.contains($0.key) }
        let u = IdentityUser(
            id: TokenCodec.newID(), name: name, domainID: domainID, enabled: try Self.bool(body, "enabled") ?? true,
            defaultProjectID: Self.string(body, "default_project_id"), passwordHash: hash,
            extraJSON: IdentityJSON.encode(extra))
        do {
            try await service.store.insertUser(u)
        } catch let e as GlimpseError where e.kind == .conflict {
            throw GlimpseError.conflict("Conflict occurred attempting to store user - Duplicate entry found with name \(name) at domain ID \(domainID).")
        }
        return json(.created) { w in w.object { o in o.key("user"); IdentityJSON.user(u, into: &o, base: base) } }
    }

    @Sendable func showUser(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let auth = try await requireAuth(request)
        let id = try context.parameters.require("id")
        guard auth.isAdmin || auth.user.id == id else { throw Self.forbidden("get_user") }
        guard let u = try await service.store.user(id: id) else { throw GlimpseError.notFound("Could not find user: \(id).") }
        return json { w in w.object { o in o.key("user"); IdentityJSON.user(u, into: &o, base: base) } }
    }

    @Sendable func updateUser(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "update_user")
        let id = try context.parameters.require("id")
        let body = try Self.object(try await request.decodeJSONObject(context: context), "user")
        guard var u = try await service.store.user(id: id) else { throw GlimpseError.notFound("Could not find user: \(id).") }
        var revoke = false
        if let n = Self.string(body, "name") { u.name = n }
        if let e = try Self.bool(body, "enabled") {
            if !e { revoke = true }
            u.enabled = e
        }
        if body["default_project_id"] != nil { u.defaultProjectID = Self.string(body, "default_project_id") }
        if let pw = Self.string(body, "password") {
            u.passwordHash = try await PasswordHasher.hash(pw, rounds: service.options.passwordRounds)
            revoke = true
        }
        var extra = IdentityJSON.extras(u.extraJSON)
        for (k, v) in body where !Self.userFields.contains(k) { extra[k] = v }
        u.extraJSON = IdentityJSON.encode(extra)
        try await service.store.updateUser(u)
        if revoke { try await service.store.revokeTokens(userID: u.id) }
        service.invalidateCache()
        return json { w in w.object { o in o.key("user"); IdentityJSON.user(u, into: &o, base: base) } }
    }

    @Sendable func deleteUser(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "delete_user")
        let id = try context.parameters.require("id")
        guard try await service.store.deleteUser(id: id) else { throw GlimpseError.notFound("Could not find user: \(id).") }
        service.invalidateCache()
        return Response(status: .noContent)
    }

    @Sendable func userProjects(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let auth = try await requireAuth(request)
        let id = try context.parameters.require("id")
        guard auth.isAdmin || auth.user.id == id else { throw Self.forbidden("list_user_projects") }
        guard try await service.store.user(id: id) != nil else { throw GlimpseError.notFound("Could not find user: \(id).") }
        return projectsList(try await projectsOf(user: id), url: base + "/users/\(id)/projects")
    }

    @Sendable func changePassword(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let body = try Self.object(try await request.decodeJSONObject(context: context), "user")
        guard let original = Self.string(body, "original_password"), let new = Self.string(body, "password"), !new.isEmpty
        else { throw GlimpseError.badRequest("Invalid input: 'password' and 'original_password' are required.") }
        guard var u = try await service.store.user(id: id) else { throw GlimpseError.notFound("Could not find user: \(id).") }
        guard await PasswordHasher.verify(original, against: u.passwordHash) else {
            throw GlimpseError.unauthorized("The request you have made requires authentication.")
        }
        u.passwordHash = try await PasswordHasher.hash(new, rounds: service.options.passwordRounds)
        try await service.store.updateUser(u)
        try await service.store.revokeTokens(userID: u.id)
        service.invalidateCache()
        return Response(status: .noContent)
    }

    // MARK: roles

    func rolesList(_ roles: [IdentityRole], url: String) -> Response {
        json { w in
            w.object { o in
                o.key("roles")
                o.array { a in for r in roles { IdentityJSON.role(r, into: &a, base: base) } }
                o.listLinks(url)
            }
        }
    }

    @Sendable func listRoles(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "list_roles")
        var roles = try await service.store.roles()
        if let n = query(request, "name") { roles = roles.filter { $0.name == n } }
        return rolesList(roles, url: base + "/roles")
    }

    @Sendable func showRole(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "get_role")
        let id = try context.parameters.require("id")
        guard let r = try await service.store.roles().first(where: { $0.id == id }) else {
            throw GlimpseError.notFound("Could not find role: \(id).")
        }
        return json { w in w.object { o in o.key("role"); IdentityJSON.role(r, into: &o, base: base) } }
    }

    @Sendable func createRole(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "create_role")
        let body = try Self.object(try await request.decodeJSONObject(context: context), "role")
        guard let name = Self.string(body, "name"), !name.isEmpty, name.count <= 255 else {
            throw GlimpseError.badRequest("Invalid input for field 'name': 'name' is a required property.")
        }
        let r = IdentityRole(id: TokenCodec.newID(), name: name, description: Self.string(body, "description") ?? "")
        do {
            try await service.store.insertRole(r)
        } catch let e as GlimpseError where e.kind == .conflict {
            throw GlimpseError.conflict("Conflict occurred attempting to store role - Duplicate entry found with name \(name).")
        }
        return json(.created) { w in w.object { o in o.key("role"); IdentityJSON.role(r, into: &o, base: base) } }
    }

    @Sendable func deleteRole(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "delete_role")
        let id = try context.parameters.require("id")
        guard try await service.store.deleteRole(id: id) else { throw GlimpseError.notFound("Could not find role: \(id).") }
        service.invalidateCache()
        return Response(status: .noContent)
    }

    @Sendable func listAssignments(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        let auth = try await requireAuth(request)
        let userFilter = query(request, "user.id")
        guard auth.isAdmin || (userFilter != nil && userFilter == auth.user.id) else {
            throw Self.forbidden("list_role_assignments")
        }
        let projectFilter = query(request, "scope.project.id")
        let roleFilter = query(request, "role.id")
        let effective = request.uri.queryParameters.has("effective")
        let names = request.uri.queryParameters.has("include_names")
        let store = service.store
        var list = try await store.assignments(userID: userFilter, projectID: projectFilter, roleID: effective ? nil : roleFilter)
        if effective {
            var expanded: [IdentityRoleAssignment] = []
            var seen = Set<IdentityRoleAssignment>()
            for a in list {
                for r in try await service.effectiveRoles(of: [a.roleID]) {
                    let e = IdentityRoleAssignment(userID: a.userID, projectID: a.projectID, roleID: r.id)
                    if seen.insert(e).inserted { expanded.append(e) }
                }
            }
            list = expanded
            if let roleFilter { list = list.filter { $0.roleID == roleFilter } }
        }
        let roles = Dictionary(uniqueKeysWithValues: try await store.roles().map { ($0.id, $0) })
        var users: [String: IdentityUser] = [:]
        var projects: [String: IdentityProject] = [:]
        var domains: [String: IdentityDomain] = [:]
        if names {
            for u in try await store.users() { users[u.id] = u }
            for p in try await store.projects() { projects[p.id] = p }
            for d in try await store.domains() { domains[d.id] = d }
        }
        func named(_ w: inout JSONWriter, id: String, name: String?, domain: String?) {
            w.field("id", id)
            if names, let name { w.field("name", name) }
            if names, let domain {
                w.field("domain", object: { d in
                    d.field("id", domain)
                    d.field("name", domains[domain]?.name ?? domain)
                })
            }
        }
        return json { w in
            w.object { o in
                o.field("role_assignments", array: { arr in
                    for a in list {
                        arr.object { e in
                            e.field("role", object: { r in
                                r.field("id", a.roleID)
                                if names { r.field("name", roles[a.roleID]?.name) }
                            })
                            e.field("user", object: { u in
                                named(&u, id: a.userID, name: users[a.userID]?.name, domain: users[a.userID]?.domainID)
                            })
                            e.field("scope", object: { s in
                                s.field("project", object: { p in
                                    named(&p, id: a.projectID, name: projects[a.projectID]?.name, domain: projects[a.projectID]?.domainID)
                                })
                            })
                            e.field("links", object: { l in
                                l.field("assignment", "\(base)/projects/\(a.projectID)/users/\(a.userID)/roles/\(a.roleID)")
                            })
                        }
                    }
                })
                o.listLinks(base + "/role_assignments")
            }
        }
    }

    // MARK: catalog administration (read-only)

    func serviceJSON(_ s: ServiceCatalog.Service, into w: inout JSONWriter) {
        w.object { o in
            o.field("id", s.id)
            o.field("type", s.type)
            o.field("name", s.name)
            o.field("enabled", true)
            o.field("description", "")
            o.links(self: "\(base)/services/\(s.id)")
        }
    }

    @Sendable func listServices(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "list_services")
        var services = catalog.services
        if let t = query(request, "type") { services = services.filter { $0.type == t } }
        if let n = query(request, "name") { services = services.filter { $0.name == n } }
        return json { w in
            w.object { o in
                o.field("services", array: { a in for s in services { serviceJSON(s, into: &a) } })
                o.listLinks(base + "/services")
            }
        }
    }

    @Sendable func showService(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "get_service")
        let id = try context.parameters.require("id")
        guard let s = catalog.services.first(where: { $0.id == id }) else {
            throw GlimpseError.notFound("Could not find service: \(id).")
        }
        return json { w in w.object { o in o.key("service"); serviceJSON(s, into: &o) } }
    }

    @Sendable func listEndpoints(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAdmin(request, "list_endpoints")
        let iface = query(request, "interface")
        let sid = query(request, "service_id")
        let region = query(request, "region_id")
        return json { w in
            w.object { o in
                o.field("endpoints", array: { a in
                    for s in catalog.services where sid == nil || sid == s.id {
                        for i in ServiceCatalog.interfaces where iface == nil || iface == i {
                            guard region == nil || region == catalog.region else { continue }
                            a.object { e in
                                e.field("id", ServiceCatalog.endpointID(s, i))
                                e.field("interface", i)
                                e.field("region_id", catalog.region)
                                e.field("region", catalog.region)
                                e.field("service_id", s.id)
                                e.field("url", s.url)
                                e.field("enabled", true)
                                e.links(self: "\(base)/endpoints/\(ServiceCatalog.endpointID(s, i))")
                            }
                        }
                    }
                })
                o.listLinks(base + "/endpoints")
            }
        }
    }

    func regionJSON(into w: inout JSONWriter) {
        w.object { r in
            r.field("id", catalog.region)
            r.field("description", "")
            r.key("parent_region_id")
            r.null()
            r.links(self: "\(base)/regions/\(catalog.region)")
        }
    }

    @Sendable func listRegions(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAuth(request)
        return json { w in
            w.object { o in
                o.field("regions", array: { a in regionJSON(into: &a) })
                o.listLinks(base + "/regions")
            }
        }
    }

    @Sendable func showRegion(_ request: Request, context: GlimpseRequestContext) async throws -> Response {
        _ = try await requireAuth(request)
        let id = try context.parameters.require("id")
        guard id == catalog.region else { throw GlimpseError.notFound("Could not find region: \(id).") }
        return json { w in w.object { o in o.key("region"); regionJSON(into: &o) } }
    }
}
