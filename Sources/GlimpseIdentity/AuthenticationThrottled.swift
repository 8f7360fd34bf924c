/// Too many failed authentications from one source address: answered 429 with `Retry-After` by
/// `KeystoneErrorMiddleware`.
public struct AuthenticationThrottled: Error, Sendable {
    public var retryAfterSeconds: Int

    public var message: String {
        "Too many failed authentication attempts from this address; try again in \(retryAfterSeconds) seconds."
    }
}
