// Where Glimpse may fetch on a tenant's behalf (web-download, http locations): the operator's scheme, port and
// host rules, and the address check on what the host resolves to. Resolves once; the answer is the address the
// fetch connects to (see OutboundFetch), so DNS cannot answer differently between the check and the connection.

import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A URL that passed the policy, pinned to the address that was checked.
public struct CheckedFetchTarget: Sendable, Equatable {
    public let url: FetchURL
    /// The address the fetch connects to.
    public let address: IPAddress
    /// Every address the host resolved to (all were checked).
    public let resolved: [IPAddress]
}

/// Why a URL was refused. `reason` is for the operator's log: it may name resolved addresses, which a tenant
/// should not learn about internal names, so tenant-facing messages carry only the redacted URL.
public struct OutboundFetchRefusal: Error, Equatable, CustomStringConvertible {
    public let redactedURL: String
    public let reason: String
    public var description: String { "\(redactedURL) refused: \(reason)" }

    /// The same refusal, naming the URL as the tenant wrote it (redacted) rather than as it was normalized.
    func naming(_ text: String) -> OutboundFetchRefusal {
        OutboundFetchRefusal(redactedURL: FetchURL.redacted(text), reason: reason)
    }
}

public struct OutboundFetchPolicy: Sendable {
    public let allowedSchemes: Set<String>
    public let allowedPorts: Set<Int>
    /// Lowercased; IPv6 literals without brackets. Empty: any host whose addresses are all public.
    public let allowedHosts: Set<String>

    public init(_ options: ImportOptions) {
        allowedSchemes = Set(options.allowedSchemes.map { $0.lowercased() })
        allowedPorts = options.allowedPorts
        allowedHosts = Set(options.allowedHosts.map(Self.normalizedHost))
    }

    /// How the allow-list spells a host: lowercased, IPv6 without brackets.
    static func normalizedHost(_ host: String) -> String {
        var h = Substring(host.lowercased())
        if h.hasPrefix("[") && h.hasSuffix("]") && h.count >= 2 { h = h.dropFirst().dropLast() }
        return String(h)
    }

    /// The rules that need no resolver: scheme, port, host allow-list. Returns whether the host is one the
    /// operator named (its addresses are then trusted).
    public func checkSyntax(_ text: String) throws(OutboundFetchRefusal) -> (FetchURL, operatorAllowed: Bool) {
        let url: FetchURL
        do throws(FetchURL.Invalid) {
            url = try FetchURL(parsing: text)
        } catch {
            throw OutboundFetchRefusal(redactedURL: FetchURL.redacted(text), reason: error.reason)
        }
        do throws(OutboundFetchRefusal) {
            return (url, try checkRules(url))
        } catch {
            throw error.naming(text)
        }
    }

    /// Scheme, port and allow-list rules for a parsed URL.
    func checkRules(_ url: FetchURL) throws(OutboundFetchRefusal) -> Bool {
        func refuse(_ reason: String) -> OutboundFetchRefusal {
            OutboundFetchRefusal(redactedURL: url.absoluteString, reason: reason)
        }
        guard allowedSchemes.contains(url.scheme) else { throw refuse("scheme \(url.scheme) is not allowed") }
        guard allowedPorts.contains(url.port) else { throw refuse("port \(url.port) is not allowed") }
        let named = allowedHosts.contains(url.host)
        guard allowedHosts.isEmpty || named else { throw refuse("host \(url.host) is not in the allowed hosts") }
        return named
    }

    /// Every resolved address must be one a tenant may reach, unless the operator named the host.
    public func checkAddresses(
        _ addresses: [IPAddress], of url: FetchURL, operatorAllowed: Bool
    ) throws(OutboundFetchRefusal) -> CheckedFetchTarget {
        guard !addresses.isEmpty else {
            throw OutboundFetchRefusal(redactedURL: url.absoluteString, reason: "host \(url.host) cannot be resolved")
        }
        if !operatorAllowed {
            for a in addresses {
                if let restriction = a.restriction {
                    throw OutboundFetchRefusal(
                        redactedURL: url.absoluteString, reason: "host \(url.host) resolves to \(a), \(restriction.rawValue)")
                }
            }
        }
        // IPv4 first: a host with both is more often reachable over IPv4, and no fallback happens after pinning.
        let pinned = addresses.first { !$0.isV6 } ?? addresses[0]
        return CheckedFetchTarget(url: url, address: pinned, resolved: addresses)
    }

    /// The whole check: rules, then one resolution, then every address.
    public func check(_ text: String) async throws(OutboundFetchRefusal) -> CheckedFetchTarget {
        let (url, named) = try checkSyntax(text)
        do throws(OutboundFetchRefusal) {
            return try await check(url, operatorAllowed: named)
        } catch {
            throw error.naming(text)
        }
    }

    /// For a redirect hop: the same rules and resolution for an already parsed URL.
    public func check(_ url: FetchURL) async throws(OutboundFetchRefusal) -> CheckedFetchTarget {
        try await check(url, operatorAllowed: try checkRules(url))
    }

    private func check(_ url: FetchURL, operatorAllowed: Bool) async throws(OutboundFetchRefusal) -> CheckedFetchTarget {
        let addresses: [IPAddress]
        do {
            addresses = try await Self.resolve(url.host)
        } catch {
            throw OutboundFetchRefusal(redactedURL: url.absoluteString, reason: "host \(url.host) cannot be resolved")
        }
        return try checkAddresses(addresses, of: url, operatorAllowed: operatorAllowed)
    }

    /// The system resolver (getaddrinfo), off the event loops. Numeric spellings (`127.1`, `0x7f000001`,
    /// `2130706433`) come back as the address the C library reads them as, which is what a connection would use.
    public static func resolve(_ host: String) async throws -> [IPAddress] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
            defer { freeaddrinfo(list) }
            var found: [IPAddress] = []
            var next = list
            while let entry = next?.pointee {
                next = entry.ai_next
                guard let sa = entry.ai_addr else { continue }
                let address: IPAddress
                switch entry.ai_family {
                case AF_INET where Int(entry.ai_addrlen) >= MemoryLayout<sockaddr_in>.size:
                    let sin = UnsafeRawPointer(sa).loadUnaligned(as: sockaddr_in.self)
                    address = .v4(UInt32(bigEndian: sin.sin_addr.s_addr))
                case AF_INET6 where Int(entry.ai_addrlen) >= MemoryLayout<sockaddr_in6>.size:
                    var sin6 = UnsafeRawPointer(sa).loadUnaligned(as: sockaddr_in6.self)
                    address = withUnsafeBytes(of: &sin6.sin6_addr) { IPAddress(v6Bytes: $0) }
                default:
                    continue
                }
                if !found.contains(address) { found.append(address) }
            }
            return found
        }
    }
}
