import HTTPTypes
import GlimpseCore
import Foundation
import Hummingbird

/// Turns a request's credentials into a `Caller`. Returns nil when the request carries none or they are invalid;
/// the middleware answers 401 then. Backends: trusted headers (development), Glimpse's own tokens, external Keystone.
public protocol Authenticator: Sendable {
    func authenticate(_ headers: HTTPFields) async throws -> Caller?
}

/// `--auth none`: trusts `X-User-Id`, `X-Project-Id`, `X-Roles` (and the names, `X-User-Name`, `X-Project-Name`)
/// as Glance and Nova do behind keystonemiddleware.
/// Without them the caller is an admin of the default project. For development only.
public struct TrustedHeaderAuthenticator: Authenticator {
    public let defaultProject: String
    public let defaultUser: String

    public init(defaultProject: String = "default", defaultUser: String = "admin") {
        self.defaultProject = defaultProject
        self.defaultUser = defaultUser
    }

    public func authenticate(_ headers: HTTPFields) async throws -> Caller? {
        let user = headers[HTTPField.Name("X-User-Id")!] ?? defaultUser
        let project = headers[HTTPField.Name("X-Project-Id")!] ?? defaultProject
        let roles: Set<String>
        if let raw = headers[HTTPField.Name("X-Roles")!] {
            roles = Set(raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        } else {
            roles = ["admin", "member", "reader"]
        }
        // keystonemiddleware marks a system-scoped token with `OpenStack-System-Scope: all` and a domain-scoped one
        // with `X-Domain-Id`; neither carries a project.
        let scope: Caller.Scope
        if headers[HTTPField.Name("OpenStack-System-Scope")!] == "all" {
            scope = .system
        } else if let domain = headers[HTTPField.Name("X-Domain-Id")!], headers[HTTPField.Name("X-Project-Id")!] == nil {
            scope = .domain(domain)
        } else {
            scope = .project
        }
        return Caller(
            userID: user, projectID: scope == .project ? project : nil, roles: roles,
            userName: headers[HTTPField.Name("X-User-Name")!], projectName: headers[HTTPField.Name("X-Project-Name")!],
            scope: scope)
    }
}

/// Resolves the caller for every request it wraps; 401 with `WWW-Authenticate` when there is none.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = GlimpseRequestContext
    let authenticator: any Authenticator

    public init(_ authenticator: any Authenticator) { self.authenticator = authenticator }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        guard let caller = try await authenticator.authenticate(request.headers) else {
            throw GlimpseError.unauthorized("The request you have made requires authentication.")
        }
        context.caller = caller
        context.authToken = request.headers[HTTPField.Name("X-Auth-Token")!]
        context.logger[metadataKey: "user"] = .string(caller.userID)
        return try await next(request, context)
    }
}
