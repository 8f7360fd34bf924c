// An IP address as the bytes a socket would connect to, and whether a tenant-supplied URL may reach it.
// Pure: no I/O. The outbound-fetch policy classifies what the resolver returned, never the host string, so every
// spelling of an address (127.1, 2130706433, 0x7f000001, ::ffff:127.0.0.1, ...) lands on the same verdict.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address in host byte order.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    /// The 128 bits as two halves: `high` holds the first 8 bytes.
    case v6(high: UInt64, low: UInt64)

    /// Parses the strict textual forms only (`inet_pton`): dotted quad with four parts, or RFC 4291 IPv6 without
    /// brackets or zone. Other spellings are for the resolver to interpret, not this type.
    public init?(_ literal: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, literal, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, literal, &v6) == 1 else { return nil }
        self = withUnsafeBytes(of: &v6) { IPAddress(v6Bytes: $0) }
    }

    /// From 16 bytes in network order (an `in6_addr`); shorter input is padded with zeros, longer is cut.
    init(v6Bytes bytes: UnsafeRawBufferPointer) {
        var padded = [UInt8](repeating: 0, count: 16)
        for (i, b) in bytes.prefix(16).enumerated() { padded[i] = b }
        let high = padded[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = padded[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        self = .v6(high: high, low: low)
    }

    /// The canonical text (`inet_ntop`), without brackets.
    public var description: String {
        switch self {
        case .v4(let a):
            return "\(a >> 24).\(a >> 16 & 0xff).\(a >> 8 & 0xff).\(a & 0xff)"
        case .v6(let high, let low):
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { p in
                for i in 0..<8 {
                    p[i] = UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * i))
                    p[8 + i] = UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * i))
                }
            }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            guard inet_ntop(AF_INET6, &raw, &text, socklen_t(INET6_ADDRSTRLEN)) != nil else { return "::" }
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    public var isV6: Bool {
        if case .v6 = self { return true }
        return false
    }
}

/// Why an address is not one a tenant's URL may reach; nil from `IPAddress.restriction` means publicly routable.
public enum AddressRestriction: String, Sendable, Equatable {
    case unspecified = "an unspecified address"
    case loopback = "a loopback address"
    case linkLocal = "a link-local address"
    case privateUse = "a private-use address"
    case sharedCGNAT = "a carrier-grade NAT shared address"
    case multicast = "a multicast address"
    case broadcast = "the broadcast address"
    case documentation = "a documentation address"
    case reserved = "a reserved or special-purpose address"
}

extension IPAddress {
    /// The verdict for connecting to this address on a tenant's behalf. IPv6 forms that carry an IPv4 address
    /// (IPv4-mapped, NAT64 well-known prefix, 6to4) are judged by the IPv4 address they carry.
    public var restriction: AddressRestriction? {
        switch self {
        case .v4(let a): return Self.restriction(v4: a)
        case .v6(let high, let low): return Self.restriction(v6High: high, low: low)
        }
    }

    /// Does `address` fall in `prefix`/`bits`?
    private static func v4(_ address: UInt32, in prefix: UInt32, _ bits: Int) -> Bool {
        let mask: UInt32 = bits == 0 ? 0 : ~0 << UInt32(32 - bits)
        return address & mask == prefix & mask
    }

    private static func restriction(v4 a: UInt32) -> AddressRestriction? {
        if a == 0 { return .unspecified }
        if a == 0xffff_ffff { return .broadcast }
        // IANA's IPv4 special-purpose registry: everything in it that is not globally reachable.
        let table: [(UInt32, Int, AddressRestriction)] = [
            (0x0000_0000, 8, .unspecified),     // 0.0.0.0/8 "this network": Linux connects it to the local host
            (0x0a00_0000, 8, .privateUse),      // 10/8
            (0x6440_0000, 10, .sharedCGNAT),    // 100.64/10
            (0x7f00_0000, 8, .loopback),        // 127/8
            (0xa9fe_0000, 16, .linkLocal),      // 169.254/16, where cloud metadata services live
            (0xac10_0000, 12, .privateUse),     // 172.16/12
            (0xc000_0000, 24, .reserved),       // 192.0.0/24 IETF protocol assignments
            (0xc000_0200, 24, .documentation),  // 192.0.2/24
            (0xc058_6300, 24, .reserved),       // 192.88.99/24 6to4 relay anycast
            (0xc0a8_0000, 16, .privateUse),     // 192.168/16
            (0xc612_0000, 15, .reserved),       // 198.18/15 benchmarking
            (0xc633_6400, 24, .documentation),  // 198.51.100/24
            (0xcb00_7100, 24, .documentation),  // 203.0.113/24
            (0xe000_0000, 4, .multicast),       // 224/4
            (0xf000_0000, 4, .reserved),        // 240/4
        ]
        for (prefix, bits, verdict) in table where v4(a, in: prefix, bits) { return verdict }
        return nil
    }

    private static func restriction(v6High high: UInt64, low: UInt64) -> AddressRestriction? {
        let embeddedV4 = UInt32(truncatingIfNeeded: low)
        let top16 = high >> 48
        if high == 0 {
            if low == 0 { return .unspecified }
            if low == 1 { return .loopback }
            // ::ffff:a.b.c.d reaches a.b.c.d on a dual-stack socket.
            if low >> 32 == 0xffff { return restriction(v4: embeddedV4) }
            // ::a.b.c.d (deprecated IPv4-compatible), ::ffff:0:a.b.c.d (SIIT) and the rest of ::/64: nothing a
            // public server is reached by.
            return .reserved
        }
        // 64:ff9b::/96, the NAT64 well-known prefix: the gateway connects to the IPv4 address it carries.
        if high == 0x0064_ff9b_0000_0000, low >> 32 == 0 { return restriction(v4: embeddedV4) }
        // 64:ff9b:1::/48, local-use NAT64: translates into the operator's own networks.
        if high >> 16 == 0x0064_ff9b_0001 { return .privateUse }
        // 2002::/16, 6to4: bits 16..47 are an IPv4 address the relay connects to.
        if top16 == 0x2002 { return restriction(v4: UInt32(truncatingIfNeeded: high >> 16)) }
        if high >> 32 == 0x2001_0db8 { return .documentation }  // 2001:db8::/32
        if high >> 44 == 0x3fff0 { return .documentation }  // 3fff::/20
        if high >> 41 == 0x2001_0000 >> 9 { return .reserved }  // 2001::/23 (Teredo, ORCHID, ...)
        if top16 & 0xff00 == 0xff00 { return .multicast }    // ff00::/8
        if top16 & 0xffc0 == 0xfe80 { return .linkLocal }    // fe80::/10
        if top16 & 0xffc0 == 0xfec0 { return .privateUse }   // fec0::/10 (deprecated site-local)
        if top16 & 0xfe00 == 0xfc00 { return .privateUse }   // fc00::/7 unique local
        // Only global unicast (2000::/3) reaches the Internet; everything else is reserved (100::/64 discard, ...).
        if top16 & 0xe000 != 0x2000 { return .reserved }
        return nil
    }
}
