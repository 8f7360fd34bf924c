import GlimpseCore
import GlimpseHTTP
import Hummingbird

/// The request context of `/identity/v3`: Glimpse's shared context plus the token `IdentityAuthMiddleware`
/// validated, so handlers never validate it again.
public struct IdentityRequestContext: ChildRequestContext {
    public typealias ParentContext = GlimpseRequestContext
    public var coreContext: CoreRequestContextStorage
    /// The shared context (request id, upload limit) GlimpseHTTP's helpers take.
    public var glimpse: GlimpseRequestContext
    /// Set by `IdentityAuthMiddleware` on authenticated routes.
    public var auth: AuthContext?

    public init(context: GlimpseRequestContext) throws {
        // The parent's core context carries the route parameters already matched.
        self.coreContext = context.coreContext
        self.glimpse = context
        self.auth = nil
    }

    public var maxUploadSize: Int { glimpse.maxUploadSize }

    /// The validated token; 401 if a route forgot the middleware.
    public func requireAuth() throws -> AuthContext {
        guard let auth else { throw GlimpseError.unauthorized("The request you have made requires authentication.") }
        return auth
    }

    func parameter(_ name: String) throws -> String { try parameters.require(name) }
}
