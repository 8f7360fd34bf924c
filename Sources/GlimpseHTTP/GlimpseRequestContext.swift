// GlimpseHTTP owns what every API on the one listener shares: the request context, request ids and logging,
// authentication at the edge, mapping domain errors to OpenStack-shaped HTTP errors, and fast JSON output.

import HTTPTypes
import GlimpseCore
import Hummingbird
import Logging

/// Per-request state: the authenticated caller and the OpenStack request id.
public struct GlimpseRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var caller: Caller?
    public var requestID: String
    /// The raw token the caller presented, for APIs that must echo or revoke it.
    public var authToken: String?
    /// The peer's IP address (no port), for limits per source address; nil when unknown (e.g. a Unix socket).
    public var remoteIP: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.caller = nil
        self.requestID = ""
        self.authToken = nil
        self.remoteIP = source.channel.remoteAddress?.ipAddress
    }

    /// JSON bodies of API calls are small; image data never goes through `collect`.
    public var maxUploadSize: Int { 1 << 20 }

    /// The caller, or 401 when the request reached an authenticated route without one.
    public func requireCaller() throws -> Caller {
        guard let caller else { throw GlimpseError.unauthorized("The request you have made requires authentication.") }
        return caller
    }
}
