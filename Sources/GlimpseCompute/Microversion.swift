import Foundation
import GlimpseCore
import HTTPTypes

/// A Compute API microversion (`2.47`).
public struct APIVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// Parses `MAJOR.MINOR` as Nova does (`^([1-9]\d*)\.([1-9]\d*|0)$`).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a > 0, b >= 0,
            !parts[0].hasPrefix("0"), parts[1] == "0" || !parts[1].hasPrefix("0"),
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
        else { return nil }
        major = a
        minor = b
    }

    public static func < (a: APIVersion, b: APIVersion) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
    public var description: String { "\(major).\(minor)" }

    /// The oldest microversion served (and what a request without a version header gets).
    public static let min = APIVersion(2, 1)
    /// The newest microversion Glimpse honours for everything it serves. 2.47 covers what the `openstack` client
    /// needs: 2.37 (`networks: "none"/"auto"`), 2.45 (createImage answers `image_id`) and 2.47 (the server's flavor
    /// embedded). Versions in between that change calls Glimpse serves are honoured too: 2.3 (extended server
    /// attributes for admins), 2.9 (`locked`), 2.16 (`host_status`), 2.19 (`description`), 2.26 (`tags`),
    /// 2.38 (400 for an unknown status filter), 2.39 (no image-metadata quota check on createImage).
    public static let max = APIVersion(2, 47)

    static let headerName = HTTPField.Name("OpenStack-API-Version")!
    static let legacyHeaderName = HTTPField.Name("X-OpenStack-Nova-API-Version")!
    static let vary = "OpenStack-API-Version, X-OpenStack-Nova-API-Version"

    /// The version a request asks for, by Nova's rules (nova/api/openstack/wsgi.py `Request.set_api_version_request`):
    /// `OpenStack-API-Version: compute X` first, then `X-OpenStack-Nova-API-Version: X`; none means 2.1,
    /// `latest` the maximum; a malformed version is 400 and one outside the range 406.
    public static func negotiate(_ headers: HTTPFields) throws -> APIVersion {
        var requested: String?
        let values = headers[values: headerName]
        if !values.isEmpty {
            for item in values.joined(separator: ",").split(separator: ",") {
                let words = item.split(whereSeparator: { $0 == " " || $0 == "\t" })
                if words.count == 2, words[0].lowercased() == "compute" {
                    requested = String(words[1])
                }
            }
        }
        if requested == nil, let legacy = headers[legacyHeaderName] {
            requested = legacy.trimmingCharacters(in: .whitespaces)
        }
        guard let requested else { return min }
        if requested.lowercased() == "latest" { return max }
        guard let v = APIVersion(requested) else {
            throw GlimpseError.badRequest(
                "API Version String \(requested) is of invalid format. Must be of format MajorNum.MinorNum.")
        }
        guard v >= min, v <= max else {
            throw GlimpseError(
                .notAcceptable, "Version \(requested) is not supported by the API. Minimum is \(min) and maximum is \(max).")
        }
        return v
    }
}
