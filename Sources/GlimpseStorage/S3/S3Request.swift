// One S3 operation before it is signed: method, object (or the bucket), query, extra headers, body; and how it
// becomes a signed HTTP request for a location.
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

struct S3Request: Sendable {
    var operation: String
    var method: HTTPMethod
    /// The object key; nil addresses the bucket.
    var key: String?
    var query: [(String, String)] = []
    var headers: [(String, String)] = []
    var body: ByteBuffer?
    /// Whether sending it twice does no harm, so it may be retried after a connection error or a 5xx.
    var idempotent: Bool

    /// The URL to connect to and the headers to send (signed), for `location` at `date`.
    func signed(for location: S3Location, signer: S3SigV4Signer, date: SigV4Date) -> (url: String, headers: [(String, String)]) {
        let path = location.path(key: key)
        let payloadHash = body.map { buffer in
            buffer.withUnsafeReadableBytes { S3SigV4Signer.sha256Hex($0) }
        } ?? S3SigV4Signer.emptyPayloadHash
        let unsigned = [("host", location.hostHeader)] + headers
        let signature = signer.signedHeaders(
            method: method.rawValue, path: path, query: query, headers: unsigned, payloadHash: payloadHash, date: date)
        let queryString = query
            .map { $0.1.isEmpty && $0.0 == "uploads" ? "uploads" : "\(S3SigV4Signer.uriEncode($0.0, keepSlash: false))=\(S3SigV4Signer.uriEncode($0.1, keepSlash: false))" }
            .joined(separator: "&")
        let host = location.addressing == .virtualHost ? "\(location.bucket).\(location.host)" : location.host
        let url = "\(location.scheme)://\(host):\(location.port)\(path)" + (queryString.isEmpty ? "" : "?" + queryString)
        return (url, unsigned + signature)
    }

    func httpRequest(for location: S3Location, signer: S3SigV4Signer, date: SigV4Date) -> HTTPClientRequest {
        let (url, headers) = signed(for: location, signer: signer, date: date)
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(body) } else if method == .PUT || method == .POST { request.body = .bytes(ByteBuffer()) }
        return request
    }
}
