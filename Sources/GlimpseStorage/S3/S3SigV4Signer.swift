// AWS Signature Version 4 (header form): canonical request, string to sign, derived signing key, Authorization.
import Crypto
import Foundation

/// Signs requests with SigV4 for one region and service ("s3" for object stores).
public struct S3SigV4Signer: Sendable {
    public let credentials: S3Credentials
    public let region: String
    public let service: String

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to add to a request: `x-amz-date`, `x-amz-content-sha256` (when `addContentHash`) and
    /// `Authorization`. `headers` must already hold every header to be signed, including `host`; `path` is the
    /// canonical (already percent-encoded) path and `query` the decoded query parameters.
    public func signedHeaders(
        method: String, path: String, query: [(String, String)], headers: [(String, String)],
        payloadHash: String, date: SigV4Date, addContentHash: Bool = true
    ) -> [(String, String)] {
        var all = headers
        all.append(("x-amz-date", date.timestamp))
        if addContentHash { all.append(("x-amz-content-sha256", payloadHash)) }
        let canonical = Self.canonicalRequest(method: method, path: path, query: query, headers: all, payloadHash: payloadHash)
        let scope = "\(date.day)/\(region)/\(service)/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(date.timestamp)\n\(scope)\n\(Self.hex(SHA256.hash(data: Array(canonical.request.utf8))))"
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(toSign.utf8), using: signingKey(day: date.day)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
        var added = [("x-amz-date", date.timestamp)]
        if addContentHash { added.append(("x-amz-content-sha256", payloadHash)) }
        added.append(("Authorization", authorization))
        return added
    }

    func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    static func canonicalRequest(
        method: String, path: String, query: [(String, String)], headers: [(String, String)], payloadHash: String
    ) -> (request: String, signedHeaders: String) {
        let encoded: [(name: String, value: String)] = query.map { pair in
            (uriEncode(pair.0, keepSlash: false), uriEncode(pair.1, keepSlash: false))
        }
        let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        let canonicalQuery = sorted.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
        // Header names lower-cased and sorted; values trimmed with inner runs of spaces collapsed; repeated names
        // joined with commas.
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            merged[name.lowercased(), default: []].append(collapseSpaces(value))
        }
        let names = merged.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(merged[$0, default: []].joined(separator: ","))\n" }.joined()
        let signed = names.joined(separator: ";")
        let request = [method, path, canonicalQuery, canonicalHeaders, signed, payloadHash].joined(separator: "\n")
        return (request, signed)
    }

    static func collapseSpaces(_ value: String) -> String {
        var out = ""
        var lastWasSpace = false
        for c in value.trimmingSpaces {
            if c == " " || c == "\t" {
                if !lastWasSpace { out.append(" ") }
                lastWasSpace = true
            } else {
                out.append(c)
                lastWasSpace = false
            }
        }
        return out
    }

    /// RFC 3986 percent-encoding of every byte except the unreserved characters (and `/` in paths), as SigV4 wants.
    public static func uriEncode(_ value: String, keepSlash: Bool) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                 UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(byte)))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 15, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// SHA-256 of `bytes`, lower-case hex (the payload hash).
    public static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String {
        hex(SHA256.hash(data: bytes))
    }

    static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return out
    }
}
