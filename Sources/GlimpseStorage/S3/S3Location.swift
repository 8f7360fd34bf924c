// Where an S3 blob store lives: endpoint, bucket, region and addressing style, parsed from an `s3://` URL.
import Foundation

/// An S3 bucket on an endpoint. Written as `s3://BUCKET?endpoint=http://host:port&region=us-east-1[&addressing=path]`
/// (`addressing=virtual-host` puts the bucket in the host name instead of the path).
public struct S3Location: Sendable, Equatable, CustomStringConvertible {
    public enum Addressing: String, Sendable {
        /// `http://host:port/bucket/key`: works with any endpoint, including IP addresses.
        case path
        /// `http://bucket.host:port/key`: what AWS prefers; needs DNS for every bucket name.
        case virtualHost = "virtual-host"
    }

    public var scheme: String
    public var host: String
    public var port: Int
    public var bucket: String
    public var region: String
    public var addressing: Addressing
    /// A file with the access key in the AWS shared-credentials format, when not taken from the environment.
    public var credentialsFile: String?
    /// Bytes per uploaded part (`part-size=`), nil for the store's default.
    public var partSize: Int?
    /// S3's bounds for a part: every part but the last at least 5 MiB, none above 5 GiB.
    public static let partSizeRange = (5 << 20)...(5 << 30)
    /// Parts one upload sends at once (`parts-in-flight=`), nil for the store's default.
    public var partsInFlight: Int?
    public static let partsInFlightRange = 1...16

    public init(
        scheme: String = "http", host: String, port: Int, bucket: String, region: String = "us-east-1",
        addressing: Addressing = .path, credentialsFile: String? = nil
    ) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.bucket = bucket
        self.region = region
        self.addressing = addressing
        self.credentialsFile = credentialsFile
    }

    /// Parses an `s3://` URL; throws `S3Error.invalidLocation` naming what is wrong.
    public init(url text: String) throws {
        guard let url = URLComponents(string: text), url.scheme == "s3" else {
            throw S3Error.invalidLocation("\(text): expected s3://BUCKET?endpoint=http://HOST:PORT")
        }
        guard let bucket = url.host, Self.isValidBucket(bucket) else {
            throw S3Error.invalidLocation("\(text): the bucket name must be 3-63 lower-case letters, digits, '-' or '.'")
        }
        var values: [String: String] = [:]
        for item in url.queryItems ?? [] { values[item.name] = item.value ?? "" }
        let known: Set<String> = ["endpoint", "region", "addressing", "credentials", "part-size", "parts-in-flight"]
        if let unknown = values.keys.first(where: { !known.contains($0) }) {
            throw S3Error.invalidLocation("\(text): unknown parameter '\(unknown)'")
        }
        guard let endpointText = values["endpoint"], let endpoint = URLComponents(string: endpointText),
              let scheme = endpoint.scheme, scheme == "http" || scheme == "https", let host = endpoint.host, !host.isEmpty,
              endpoint.path.isEmpty || endpoint.path == "/"
        else {
            throw S3Error.invalidLocation("\(text): endpoint=http(s)://HOST[:PORT] is required")
        }
        guard let addressing = Addressing(rawValue: values["addressing"] ?? "path") else {
            throw S3Error.invalidLocation("\(text): addressing must be 'path' or 'virtual-host'")
        }
        var partSize: Int?
        if let text = values["part-size"] {
            guard let size = Self.byteCount(text), Self.partSizeRange.contains(size) else {
                throw S3Error.invalidLocation(
                    "part-size=\(text): a part must be between 5 MiB (S3's minimum for every part but the last) and 5 GiB (its maximum), e.g. part-size=16M")
            }
            partSize = size
        }
        var partsInFlight: Int?
        if let text = values["parts-in-flight"] {
            guard let n = Int(text), Self.partsInFlightRange.contains(n) else {
                throw S3Error.invalidLocation(
                    "parts-in-flight=\(text.prefix(20)): between 1 and 16 parts of one upload are sent at once (each holds part-size bytes in memory)")
            }
            partsInFlight = n
        }
        self.init(
            scheme: scheme, host: host, port: endpoint.port ?? (scheme == "https" ? 443 : 80), bucket: bucket,
            region: values["region"].flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1", addressing: addressing,
            credentialsFile: values["credentials"])
        self.partSize = partSize
        self.partsInFlight = partsInFlight
    }

    /// Bytes, with an optional binary suffix: `16777216`, `16M`, `16MiB`, `1G`; nil when not a size that fits.
    static func byteCount(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KiB", 10), ("MiB", 20), ("GiB", 30), ("K", 10), ("M", 20), ("G", 30)]
        var digits = Substring(text)
        var shift = 0
        if let unit = units.first(where: { text.hasSuffix($0.0) }) {
            digits = digits.dropLast(unit.0.count)
            shift = unit.1
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int(digits), value >= 0,
            value <= Int.max >> shift
        else { return nil }
        return value << shift
    }

    static func isValidBucket(_ name: String) -> Bool {
        let allowed = name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 46 }
        return (3...63).contains(name.utf8.count) && allowed && !name.hasPrefix("-") && !name.hasPrefix(".")
    }

    /// The `Host` header value: the endpoint's host, with the bucket in front for virtual-host addressing; the
    /// port is left out when it is the scheme's default, as HTTP clients do (it is part of the signature).
    var hostHeader: String {
        let base = addressing == .virtualHost ? "\(bucket).\(host)" : host
        let defaultPort = scheme == "https" ? 443 : 80
        return port == defaultPort ? base : "\(base):\(port)"
    }

    /// The canonical (percent-encoded) path of `key` in the bucket; the bucket itself when `key` is nil.
    func path(key: String?) -> String {
        let encodedKey = key.map { S3SigV4Signer.uriEncode($0, keepSlash: true) }
        switch addressing {
        case .path: return "/\(bucket)" + (encodedKey.map { "/" + $0 } ?? "")
        case .virtualHost: return "/" + (encodedKey ?? "")
        }
    }

    /// What the store logs: no credentials are part of a location.
    public var description: String { "s3://\(bucket) at \(scheme)://\(host):\(port) (\(region), \(addressing.rawValue))" }
}
