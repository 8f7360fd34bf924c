import GlimpseCore

/// The body of `POST /v3/auth/tokens`, parsed: how the caller proves who it is and what it asks the token to be
/// scoped to. Malformed bodies are 400s here; wrong credentials are the service's business (401).
public struct AuthRequest: Sendable {
    public enum Method: Sendable {
        case password(userID: String?, userName: String?, domainID: String?, domainName: String?, password: String)
        case token(String)
        case applicationCredential(ApplicationCredentialMethod)
    }

    /// `{"id", "secret"}`, or `{"name", "secret", "user": {"id"} | {"name", "domain": {"id"|"name"}}}`.
    public struct ApplicationCredentialMethod: Sendable {
        public var id: String?
        public var name: String?
        public var secret: String
        public var userID: String?
        public var userName: String?
        public var domainID: String?
        public var domainName: String?
    }

    public var method: Method
    /// Nil: no `scope` given (the default project for a password, unscoped for a token).
    public var scope: IdentityService.Scope?

    public init(method: Method, scope: IdentityService.Scope?) {
        self.method = method
        self.scope = scope
    }

    static func malformed(_ what: String) -> GlimpseError {
        .badRequest("Expecting to find \(what). The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
    }

    public init(body: [String: JSONValue]) throws {
        let auth = try IdentityInput.object(body, "auth")
        let identity = try IdentityInput.object(auth, "identity")
        guard case .array(let m)? = identity["methods"] else {
            throw GlimpseError.badRequest("Invalid input for field 'identity/methods': 'methods' is a required property.")
        }
        let methods = m.compactMap { if case .string(let s) = $0 { s } else { nil } }
        if methods.contains("password") {
            let pu = IdentityInput.sub(IdentityInput.sub(identity, "password"), "user")
            guard let pu, let password = IdentityInput.string(pu, "password") else {
                throw GlimpseError.badRequest("Invalid input for field 'identity/password/user': missing user or password.")
            }
            let domain = IdentityInput.sub(pu, "domain")
            if IdentityInput.string(pu, "id") == nil, IdentityInput.string(pu, "name") != nil, domain == nil {
                throw Self.malformed("domain in user")
            }
            method = .password(
                userID: IdentityInput.string(pu, "id"), userName: IdentityInput.string(pu, "name"),
                domainID: IdentityInput.string(domain, "id"), domainName: IdentityInput.string(domain, "name"),
                password: password)
        } else if methods.contains("token") {
            guard let id = IdentityInput.string(IdentityInput.sub(identity, "token"), "id") else {
                throw GlimpseError.unauthorized("The request you have made requires authentication.")
            }
            method = .token(id)
        } else if methods.contains("application_credential") {
            method = .applicationCredential(try Self.applicationCredential(IdentityInput.sub(identity, "application_credential")))
        } else {
            throw GlimpseError.unauthorized("Attempted to authenticate with an unsupported method.")
        }
        scope = try Self.scope(auth["scope"])
    }

    static func applicationCredential(_ o: [String: JSONValue]?) throws -> ApplicationCredentialMethod {
        guard let o, let secret = IdentityInput.string(o, "secret") else {
            throw GlimpseError.badRequest("Invalid input for field 'identity/application_credential': 'secret' is a required property.")
        }
        let id = IdentityInput.string(o, "id")
        let name = IdentityInput.string(o, "name")
        let user = IdentityInput.sub(o, "user")
        let domain = IdentityInput.sub(user, "domain")
        guard id != nil || name != nil else { throw Self.malformed("id or name in application_credential") }
        if id == nil {
            guard IdentityInput.string(user, "id") != nil || (IdentityInput.string(user, "name") != nil && domain != nil) else {
                throw Self.malformed("user in application_credential")
            }
        }
        return ApplicationCredentialMethod(
            id: id, name: name, secret: secret, userID: IdentityInput.string(user, "id"),
            userName: IdentityInput.string(user, "name"), domainID: IdentityInput.string(domain, "id"),
            domainName: IdentityInput.string(domain, "name"))
    }

    static func scope(_ value: JSONValue?) throws -> IdentityService.Scope? {
        switch value {
        case nil, .null?:
            return nil
        case .string("unscoped")?:
            return .unscoped
        case .object(let s)?:
            if let p = IdentityInput.sub(s, "project") {
                if let id = IdentityInput.string(p, "id") { return .projectID(id) }
                guard let name = IdentityInput.string(p, "name") else { throw Self.malformed("id or name in project") }
                guard let d = IdentityInput.sub(p, "domain") else { throw Self.malformed("domain in project") }
                return .projectName(name, domainID: IdentityInput.string(d, "id"), domainName: IdentityInput.string(d, "name"))
            }
            if let system = IdentityInput.sub(s, "system") {
                guard case .bool(true)? = system["all"] else { throw GlimpseError.badRequest("Invalid scope: the system scope is {\"all\": true}.") }
                return .system
            }
            if let d = IdentityInput.sub(s, "domain") {
                if let id = IdentityInput.string(d, "id") { return .domainID(id) }
                if let name = IdentityInput.string(d, "name") { return .domainName(name) }
                throw Self.malformed("id or name in domain")
            }
            if s["OS-TRUST:trust"] != nil {
                throw GlimpseError.unauthorized("Glimpse does not issue trust-scoped tokens.")
            }
            throw GlimpseError.badRequest("Invalid scope.")
        default:
            throw GlimpseError.badRequest("Invalid scope.")
        }
    }
}
