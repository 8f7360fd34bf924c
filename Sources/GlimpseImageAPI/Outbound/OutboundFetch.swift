// The outbound GET for web-download and http locations: connects only to the address the policy checked (an HTTP
// client per hop whose DNS answer is pinned to it, so TLS still verifies the host name), and follows a redirect
// only after the new target passed the same policy. A refused hop is never connected to.

import AsyncHTTPClient
import Foundation
import GlimpseCore
import Logging
import NIOCore
import NIOPosix

/// A 2xx answer whose body keeps its HTTP client alive until the body and its iterators are gone.
public struct FetchedResponse: Sendable {
    public let statusCode: UInt
    /// The length the remote announced (`Content-Length`), when it gave a well-formed one; a hint, never trusted
    /// as the real size.
    public let announcedLength: Int64?
    public let body: FetchedBody
}

/// The response body bytes; owns the per-fetch HTTP client (shut down when the last reference goes).
public struct FetchedBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let base: HTTPClientResponse.Body
    let lease: ClientLease

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: HTTPClientResponse.Body.AsyncIterator
        let lease: ClientLease
        public mutating func next() async throws -> ByteBuffer? { try await base.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), lease: lease) }
}

/// One HTTP client used for one hop; shut down when nothing refers to it any more.
final class ClientLease: Sendable {
    let client: HTTPClient
    init(_ client: HTTPClient) { self.client = client }
    deinit {
        // The client keeps itself alive until its shutdown completes; nothing waits for it.
        client.shutdown { _ in }
    }
}

/// Fetches a checked target under a policy.
struct OutboundFetch: Sendable {
    let policy: OutboundFetchPolicy
    let logger: Logger
    /// As urllib, which Glance's web-download uses.
    static let maxRedirects = 10
    static let timeout: TimeAmount = .seconds(600)

    /// GETs `target`, following redirects whose targets pass the policy. `what` starts error messages, e.g.
    /// "web-download of" or "Location". Throws `GlimpseError` for answers outside 2xx and refused redirects.
    func get(_ first: CheckedFetchTarget, what: String) async throws -> FetchedResponse {
        var target = first
        var hops = 0
        while true {
            let lease = try ClientLease(Self.pinnedClient(target))
            var request = HTTPClientRequest(url: target.url.absoluteString)
            request.method = .GET
            let response = try await lease.client.execute(request, timeout: Self.timeout)
            let code = response.status.code
            if (200..<300).contains(code) {
                let announced = response.headers.first(name: "content-length").flatMap { Int64($0) }.flatMap { $0 >= 0 ? $0 : nil }
                return FetchedResponse(
                    statusCode: code, announcedLength: announced, body: FetchedBody(base: response.body, lease: lease))
            }
            guard [301, 302, 303, 307, 308].contains(code), let location = response.headers.first(name: "location") else {
                throw GlimpseError.badRequest("\(what) \(target.url) answered \(code).")
            }
            hops += 1
            guard hops <= Self.maxRedirects else {
                throw GlimpseError.badRequest("\(what) \(first.url) redirected more than \(Self.maxRedirects) times.")
            }
            target = try await checkRedirect(from: target.url, to: location)
        }
    }

    /// Glance's SafeRedirectHandler message ("Redirect to disallowed URL: ..."), with credentials redacted.
    func checkRedirect(from current: FetchURL, to location: String) async throws -> CheckedFetchTarget {
        let next: FetchURL
        do throws(FetchURL.Invalid) {
            next = try current.resolving(location)
        } catch {
            throw refusedRedirect(from: current, OutboundFetchRefusal(redactedURL: FetchURL.redacted(location), reason: error.reason))
        }
        do throws(OutboundFetchRefusal) {
            return try await policy.check(next)
        } catch {
            throw refusedRedirect(from: current, error.naming(location))
        }
    }

    private func refusedRedirect(from current: FetchURL, _ refusal: OutboundFetchRefusal) -> GlimpseError {
        logger.notice("redirect from \(current) refused: \(refusal)")
        return GlimpseError.badRequest("Redirect to disallowed URL: \(refusal.redactedURL)")
    }

    /// A client that resolves the target's host to the checked address and nothing else, and follows no
    /// redirects by itself. The override is keyed by the host exactly as the client reads it from the URL; if
    /// that reading differs from ours, the fetch is refused rather than risk a lookup we did not check.
    static func pinnedClient(_ target: CheckedFetchTarget) throws -> HTTPClient {
        guard clientHostKey(target.url.absoluteString) == target.url.hostForURL else {
            throw GlimpseError.badRequest("URL \(target.url) cannot be fetched safely.")
        }
        var config = HTTPClient.Configuration()
        config.redirectConfiguration = .disallow
        config.dnsOverride = [target.url.hostForURL: target.address.description]
        config.timeout.connect = .seconds(30)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
    }

    /// The host AsyncHTTPClient takes from a URL string (and looks up in `dnsOverride`): Foundation's host,
    /// brackets trimmed, IPv6 literals put back in brackets.
    static func clientHostKey(_ url: String) -> String? {
        guard var host = URL(string: url)?.host, !host.isEmpty else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 { host = String(host.dropFirst().dropLast()) }
        if let address = try? SocketAddress(ipAddress: host, port: 0), case .v6 = address { return "[\(host)]" }
        return host
    }
}

extension ImageService {
    var fetchPolicy: OutboundFetchPolicy { OutboundFetchPolicy(importOptions) }

    /// Request-time check of a web-download or location URL: 400 with Glance's message, before any connection.
    func checkedFetchTarget(_ uri: String) async throws -> CheckedFetchTarget {
        do throws(OutboundFetchRefusal) {
            return try await fetchPolicy.check(uri)
        } catch {
            logger.notice("outbound fetch refused: \(error)")
            throw GlimpseError.badRequest("URI for web-download does not pass filtering: \(error.redactedURL)")
        }
    }

    /// The GET behind web-download and location imports; the body is the image data.
    func fetchForImport(_ target: CheckedFetchTarget, what: String) async throws -> FetchedResponse {
        try await OutboundFetch(policy: fetchPolicy, logger: logger).get(target, what: what)
    }
}
