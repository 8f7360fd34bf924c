// A tenant's http(s) URL parsed strictly, and the redacted form of any URL-like text for logs and messages.
// The parser accepts less than RFC 3986 on purpose: whatever it accepts, every other parser (Foundation's, the
// HTTP client's) reads the same host and port from, so the host that was checked is the host that is connected to.

import Foundation

/// An absolute `http`/`https` URL without credentials: `scheme://host[:port][/path][?query]` (a fragment is
/// dropped; it is never sent).
public struct FetchURL: Sendable, Equatable, CustomStringConvertible {
    /// Lowercased: `http` or `https`.
    public let scheme: String
    /// Lowercased; an IPv6 literal without its brackets, as the allow-list spells it.
    public let host: String
    public let isIPv6Literal: Bool
    /// The explicit port, or the scheme's default.
    public let port: Int
    /// Starts with `/`.
    public let pathAndQuery: String

    /// Why a URL did not parse; the text never contains the URL's credentials.
    public struct Invalid: Error, Equatable {
        public let reason: String
    }

    /// The longest URL accepted: Glance stores location URLs in a 255-character column; imports get more room.
    static let maxLength = 2048

    public init(parsing text: String) throws(Invalid) {
        guard text.utf8.count <= Self.maxLength else { throw Invalid(reason: "the URL is too long") }
        // Printable ASCII only: no spaces, controls or Unicode for parsers to disagree about.
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw Invalid(reason: "the URL contains spaces, control or non-ASCII characters")
        }
        guard let schemeEnd = text.range(of: "://") else { throw Invalid(reason: "the URL has no scheme") }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { throw Invalid(reason: "the scheme is not http or https") }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        if authority.contains("@") { throw Invalid(reason: "credentials in URLs are not accepted") }
        if authority.contains("\\") || authority.contains("%") {
            throw Invalid(reason: "the host contains characters that are not allowed")
        }

        let host: Substring
        var portText: Substring?
        var isIPv6 = false
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw Invalid(reason: "the IPv6 host is not closed") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let afterBracket = authority[authority.index(after: close)...]
            if !afterBracket.isEmpty {
                guard afterBracket.hasPrefix(":") else { throw Invalid(reason: "unexpected text after the IPv6 host") }
                portText = afterBracket.dropFirst()
            }
            guard case .v6? = IPAddress(String(host)) else { throw Invalid(reason: "the IPv6 host is not an IPv6 address") }
            isIPv6 = true
        } else {
            if let colon = authority.firstIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            } else {
                host = authority
            }
            // Letters, digits, '-', '.', '_': names and the numeric spellings the resolver interprets.
            let allowed = host.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x2d || b == 0x2e
                    || b == 0x5f
            }
            guard !host.isEmpty, allowed, host.utf8.count <= 253 else {
                throw Invalid(reason: "the host is missing or not a valid host name")
            }
        }

        var port = scheme == "https" ? 443 : 80
        if let portText {
            guard !portText.isEmpty, portText.utf8.count <= 5, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let p = Int(portText), p >= 1, p <= 65535
            else { throw Invalid(reason: "the port is not a number from 1 to 65535") }
            port = p
        }

        var path = rest[authorityEnd...]
        if let hash = path.firstIndex(of: "#") { path = path[..<hash] }
        self.scheme = scheme
        self.host = host.lowercased()
        self.isIPv6Literal = isIPv6
        self.port = port
        self.pathAndQuery = path.hasPrefix("/") ? String(path) : "/" + path
    }

    /// The host as it goes into a URL: IPv6 literals in brackets.
    public var hostForURL: String { isIPv6Literal ? "[\(host)]" : host }

    /// The URL handed to the HTTP client, rebuilt from the parsed parts (default ports spelled out).
    public var absoluteString: String { "\(scheme)://\(hostForURL):\(port)\(pathAndQuery)" }

    public var description: String { absoluteString }

    /// `location` (a redirect's `Location` header) resolved against this URL, as RFC 3986 section 5 says for the
    /// forms servers send: absolute, scheme-relative (`//host/...`), absolute path, or relative path.
    public func resolving(_ location: String) throws(Invalid) -> FetchURL {
        if let sep = location.range(of: "://"), !location[..<sep.lowerBound].isEmpty,
            location[..<sep.lowerBound].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        {
            return try FetchURL(parsing: location)
        }
        if location.hasPrefix("//") { return try FetchURL(parsing: scheme + ":" + location) }
        let origin = "\(scheme)://\(hostForURL):\(port)"
        if location.hasPrefix("/") { return try FetchURL(parsing: origin + location) }
        if location.hasPrefix("?") {
            let path = pathAndQuery.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "/"
            return try FetchURL(parsing: origin + path + location)
        }
        let path = pathAndQuery.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "/"
        let directory = path.lastIndex(of: "/").map { path[...$0] } ?? "/"
        return try FetchURL(parsing: origin + directory + location)
    }

    /// URL-like text made safe to log or echo: anything before an `@` in the authority becomes `***`, and bytes
    /// outside printable ASCII are percent-escaped so a URL cannot forge log lines. Works on text that did not parse.
    public static func redacted(_ text: String) -> String {
        var bytes = Array(text.utf8.prefix(maxLength))
        let authorityStart: Int
        if let i = bytes.indices.first(where: { i in
            i + 1 < bytes.count && bytes[i] == UInt8(ascii: "/") && bytes[i + 1] == UInt8(ascii: "/")
        }) {
            authorityStart = i + 2
        } else {
            authorityStart = 0
        }
        let authorityEnd = bytes[authorityStart...].firstIndex { b in
            b == UInt8(ascii: "/") || b == UInt8(ascii: "?") || b == UInt8(ascii: "#") || b == UInt8(ascii: "\\")
        } ?? bytes.endIndex
        if let at = bytes[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) {
            bytes.replaceSubrange(authorityStart..<at, with: Array("***".utf8))
        }
        var out = ""
        for b in bytes {
            if b > 0x20 && b < 0x7f {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 0xf)]], as: UTF8.self)
            }
        }
        if text.utf8.count > maxLength { out += "..." }
        return out
    }
}
