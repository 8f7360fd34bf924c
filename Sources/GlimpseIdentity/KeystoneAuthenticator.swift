import AsyncHTTPClient
import Foundation
import GlimpseCore
import GlimpseHTTP
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// `--auth keystone`: validates each user token against an external Keystone, as keystonemiddleware does:
/// `GET /v3/auth/tokens` with the service's own token in `X-Auth-Token` and the user's in `X-Subject-Token`.
/// Answers are cached for a short time (by SHA-256 of the token), so most requests cost no round trip.
public final class KeystoneTokenAuthenticator: Authenticator, Sendable {
    public struct ServiceCredentials: Sendable {
        public var username: String
        public var password: String
        public var projectName: String
        public var userDomainName: String
        public var projectDomainName: String

        public init(username: String, password: String, projectName: String, userDomainName: String = "Default", projectDomainName: String = "Default") {
            self.username = username
            self.password = password
            self.projectName = projectName
            self.userDomainName = userDomainName
            self.projectDomainName = projectDomainName
        }
    }

    /// Keystone's root, e.g. `http://127.0.0.1:5000` (a trailing `/v3` is removed).
    public let keystoneURL: String
    let credentials: ServiceCredentials
    let cacheTTL: Duration
    let logger: Logger
    let client: HTTPClient
    struct ServiceToken { var token: String; var refreshAt: ContinuousClock.Instant }
    let serviceToken = Mutex<ServiceToken?>(nil)
    struct Cached { var caller: Caller; var until: ContinuousClock.Instant; var expiresAt: Timestamp }
    let cache = Mutex<[String: Cached]>([:])

    public init(keystoneURL: String, credentials: ServiceCredentials, cacheTTL: Duration = .seconds(30), logger: Logger, client: HTTPClient = .shared) {
        var url = keystoneURL
        while url.hasSuffix("/") { url.removeLast() }
        if url.hasSuffix("/v3") { url.removeLast(3) }
        self.keystoneURL = url
        self.credentials = credentials
        self.cacheTTL = cacheTTL
        self.logger = logger
        self.client = client
    }

    var unauthorized: HTTPError { keystoneUnauthorized(authURI: keystoneURL) }

    public func authenticate(_ headers: HTTPFields) async throws -> Caller? {
        guard let token = headers[IdentityController.authToken], !token.isEmpty, token.utf8.count <= 8192 else {
            throw unauthorized
        }
        let key = TokenCodec.hash(token)
        let now = ContinuousClock.now
        let wallNow = Timestamp(microseconds: Int64(Date().timeIntervalSince1970 * 1_000_000))
        if let hit = cache.withLock({ $0[key] }), hit.until > now, hit.expiresAt > wallNow {
            return hit.caller
        }
        guard let (caller, expiresAt) = try await validate(token) else {
            cache.withLock { _ = $0.removeValue(forKey: key) }
            throw unauthorized
        }
        cache.withLock { c in
            if c.count > 50_000 { c = c.filter { $0.value.until > now } }
            if c.count > 50_000 { c.removeAll() }
            c[key] = Cached(caller: caller, until: now + cacheTTL, expiresAt: expiresAt)
        }
        return caller
    }

    /// Asks Keystone; nil when the token is not valid.
    func validate(_ token: String) async throws -> (Caller, Timestamp)? {
        for attempt in 0..<2 {
            let service = try await serviceTokenValue(forceRefresh: attempt > 0)
            var request = HTTPClientRequest(url: keystoneURL + "/v3/auth/tokens?nocatalog")
            request.method = .GET
            request.headers.add(name: "X-Auth-Token", value: service)
            request.headers.add(name: "X-Subject-Token", value: token)
            request.headers.add(name: "Accept", value: "application/json")
            let response: HTTPClientResponse
            let body: ByteBuffer
            do {
                response = try await client.execute(request, timeout: .seconds(10))
                body = try await response.body.collect(upTo: 4 << 20)
            } catch {
                logger.error("keystone: token validation request failed: \(error)")
                throw GlimpseError(.unavailable, "The identity service could not be reached.")
            }
            switch response.status.code {
            case 200, 203:
                return try Self.parse(body)
            case 401 where attempt == 0:
                continue  // our service token expired or was revoked: get a new one once
            case 401, 403:
                logger.error("keystone: the service user may not validate tokens (HTTP \(response.status.code))")
                throw GlimpseError(.unavailable, "The identity service refused to validate tokens.")
            case 404:
                return nil
            default:
                logger.error("keystone: token validation answered HTTP \(response.status.code)")
                throw GlimpseError(.unavailable, "The identity service could not validate the token.")
            }
        }
        return nil
    }

    static func parse(_ body: ByteBuffer) throws -> (Caller, Timestamp)? {
        guard case .object(let root) = try JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView)),
            case .object(let token)? = root["token"],
            case .object(let user)? = token["user"], case .string(let userID)? = user["id"],
            case .string(let expires)? = token["expires_at"], let expiresAt = Timestamp(iso8601: expires)
        else { return nil }
        // What keystonemiddleware passes on as X-Project-Id/-Name, X-User-Name and X-System-Scope/X-Domain-Id.
        var projectID: String?
        var projectName: String?
        if case .object(let project)? = token["project"] {
            if case .string(let id)? = project["id"] { projectID = id }
            if case .string(let name)? = project["name"] { projectName = name }
        }
        var scope = Caller.Scope.project
        if case .object(let system)? = token["system"], case .bool(true)? = system["all"] {
            scope = .system
        } else if case .object(let domain)? = token["domain"], case .string(let id)? = domain["id"] {
            scope = .domain(id)
        }
        var userName: String?
        if case .string(let name)? = user["name"] { userName = name }
        var roles = Set<String>()
        if case .array(let rs)? = token["roles"] {
            for r in rs { if case .object(let o) = r, case .string(let n)? = o["name"] { roles.insert(n) } }
        }
        let caller = Caller(
            userID: userID, projectID: projectID, roles: roles, userName: userName, projectName: projectName, scope: scope)
        return (caller, expiresAt)
    }

    /// The service's own token, fetched with its password and refreshed a minute before it expires.
    func serviceTokenValue(forceRefresh: Bool) async throws -> String {
        let now = ContinuousClock.now
        if !forceRefresh, let t = serviceToken.withLock({ $0 }), t.refreshAt > now { return t.token }
        let c = credentials
        let body: JSONValue = .object([
            "auth": .object([
                "identity": .object([
                    "methods": .array([.string("password")]),
                    "password": .object([
                        "user": .object([
                            "name": .string(c.username), "password": .string(c.password),
                            "domain": .object(["name": .string(c.userDomainName)]),
                        ])
                    ]),
                ]),
                "scope": .object([
                    "project": .object([
                        "name": .string(c.projectName), "domain": .object(["name": .string(c.projectDomainName)]),
                    ])
                ]),
            ])
        ])
        var w = JSONWriter()
        w.identityValue(body)
        var request = HTTPClientRequest(url: keystoneURL + "/v3/auth/tokens?nocatalog")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(w.buffer)
        let response: HTTPClientResponse
        let answer: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .seconds(10))
            answer = try await response.body.collect(upTo: 4 << 20)
        } catch {
            logger.error("keystone: service authentication request failed: \(error)")
            throw GlimpseError(.unavailable, "The identity service could not be reached.")
        }
        guard response.status.code == 201, let token = response.headers.first(name: "X-Subject-Token") else {
            logger.error("keystone: service user \(c.username) could not authenticate (HTTP \(response.status.code))")
            throw GlimpseError(.unavailable, "Glimpse could not authenticate to the identity service.")
        }
        var lifetime = Duration.seconds(300)
        if let (_, expiresAt) = try? Self.parse(answer) {
            let left = Double(expiresAt.microseconds) / 1e6 - Date().timeIntervalSince1970
            lifetime = .seconds(max(5, left - 60))
        }
        serviceToken.withLock { $0 = ServiceToken(token: token, refreshAt: now + lifetime) }
        return token
    }
}
