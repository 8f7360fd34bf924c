import GlimpseImageAPI
import Testing

/// The outbound-fetch policy on its own: address classification of literal addresses, the resolver's reading of
/// numeric spellings, URL parsing and redaction. Nothing here connects anywhere; the only names resolved are
/// numeric ones and `localhost` (answered from the hosts file).
@Suite struct OutboundFetchPolicyTests {
    static let internalAddresses: [(String, AddressRestriction)] = [
        ("127.0.0.1", .loopback), ("127.255.255.254", .loopback), ("0.0.0.0", .unspecified),
        ("0.1.2.3", .unspecified), ("169.254.169.254", .linkLocal), ("10.0.0.1", .privateUse),
        ("172.16.0.1", .privateUse), ("172.31.255.255", .privateUse), ("192.168.1.1", .privateUse),
        ("100.64.0.1", .sharedCGNAT), ("100.127.255.255", .sharedCGNAT), ("224.0.0.1", .multicast),
        ("239.255.255.250", .multicast), ("255.255.255.255", .broadcast), ("240.0.0.1", .reserved),
        ("192.0.0.8", .reserved), ("198.18.0.1", .reserved), ("192.0.2.1", .documentation),
        ("::", .unspecified), ("::1", .loopback), ("::ffff:127.0.0.1", .loopback), ("::ffff:7f00:1", .loopback),
        ("::ffff:169.254.169.254", .linkLocal), ("::ffff:10.1.2.3", .privateUse), ("::ffff:0.0.0.0", .unspecified),
        ("::127.0.0.1", .reserved), ("::8.8.8.8", .reserved), ("::ffff:0:7f00:1", .reserved),
        ("64:ff9b::7f00:1", .loopback), ("64:ff9b::169.254.169.254", .linkLocal), ("64:ff9b::c0a8:101", .privateUse),
        ("64:ff9b:1::a00:1", .privateUse), ("2002:7f00:1::1", .loopback), ("2002:a9fe:a9fe::", .linkLocal),
        ("fc00::1", .privateUse), ("fd12:3456::1", .privateUse), ("fe80::1", .linkLocal), ("febf::1", .linkLocal),
        ("fec0::1", .privateUse), ("ff02::1", .multicast), ("2001:db8::1", .documentation), ("3fff::1", .documentation),
        ("2001::1", .reserved), ("2001:10::1", .reserved), ("100::1", .reserved), ("4000::1", .reserved),
    ]

    @Test(arguments: internalAddresses)
    func internalAddressesAreRefused(_ literal: String, _ expected: AddressRestriction) throws {
        let address = try #require(IPAddress(literal))
        #expect(address.restriction == expected, "\(literal) → \(address)")
    }

    @Test(arguments: [
        "8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "169.255.0.1", "223.255.255.255",
        "2001:4860:4860::8888", "2606:4700:4700::1111", "2a00:1450:4001::1", "::ffff:8.8.8.8", "64:ff9b::808:808",
        "2002:808:808::1", "2001:200::1",
    ])
    func publicAddressesPass(_ literal: String) throws {
        let address = try #require(IPAddress(literal))
        #expect(address.restriction == nil, "\(literal) → \(String(describing: address.restriction))")
    }

    @Test func strictLiteralsOnlyAndCanonicalText() {
        // The type reads inet_pton's forms; other spellings are the resolver's business.
        for odd in ["127.1", "2130706433", "0x7f000001", "[::1]", "fe80::1%eth0", ""] { #expect(IPAddress(odd) == nil, "\(odd)") }
        #expect(IPAddress("::FFFF:127.0.0.1")?.description == "::ffff:127.0.0.1")
        #expect(IPAddress("2001:DB8:0:0:0:0:0:1")?.description == "2001:db8::1")
        #expect(IPAddress("010.0.0.1") == nil, "inet_pton refuses leading zeros")
    }

    /// Every spelling of loopback and the other internal addresses, resolved as a connection would resolve it.
    @Test(arguments: [
        "http://127.0.0.1/x", "http://localhost/x", "http://LocalHost/x", "http://127.1/x", "http://127.0.1/x",
        "http://2130706433/x", "http://0x7f000001/x", "http://0x7f.1/x", "http://0177.0.0.1/x", "http://017700000001/x",
        "http://[::1]/x", "http://[::ffff:127.0.0.1]/x", "http://[0:0:0:0:0:ffff:7f00:1]/x", "http://0.0.0.0/x",
        "http://0/x", "http://[::]/x", "http://169.254.169.254/latest/meta-data/", "http://2852039166/x",
        "http://[::ffff:a9fe:a9fe]/x", "http://[64:ff9b::a9fe:a9fe]/x", "http://10.1.2.3/x", "http://192.168.0.1/x",
        "http://100.64.1.1/x", "http://[fd00::1]/x", "http://[fe80::1]/x", "http://224.0.0.1/x",
        "http://255.255.255.255/x", "https://127.0.0.1/x",
    ])
    func everySpellingOfAnInternalAddressIsRefused(_ url: String) async throws {
        let policy = OutboundFetchPolicy(ImportOptions())
        do throws(OutboundFetchRefusal) {
            let target = try await policy.check(url)
            Issue.record("\(url) passed, pinned to \(target.address)")
        } catch {
            // refused for what the host resolved to, not because it did not resolve or the URL was malformed
            #expect(error.reason.contains("resolves to"), "\(url): \(error)")
        }
    }

    @Test func numericSpellingsResolveToTheAddressTheyMean() async throws {
        for spelling in ["127.1", "2130706433", "0x7f000001", "0177.0.0.1"] {
            #expect(try await OutboundFetchPolicy.resolve(spelling) == [IPAddress("127.0.0.1")!], "\(spelling)")
        }
    }

    @Test func publicAddressesPassTheAddressCheckWithoutConnecting() throws {
        let policy = OutboundFetchPolicy(ImportOptions())
        let (url, named) = try policy.checkSyntax("https://images.example.org/cirros.img")
        #expect(!named)
        let target = try policy.checkAddresses(
            [IPAddress("2606:4700::6810:84e5")!, IPAddress("104.16.132.229")!], of: url, operatorAllowed: false)
        #expect(target.address == IPAddress("104.16.132.229"), "IPv4 is preferred for the pinned address")
        // One internal address among public ones refuses the host: the connection could go to any of them.
        #expect(throws: OutboundFetchRefusal.self) {
            try policy.checkAddresses([IPAddress("104.16.132.229")!, IPAddress("10.0.0.5")!], of: url, operatorAllowed: false)
        }
    }

    @Test func schemesPortsAndCredentialsAreRefusedBeforeResolving() {
        let policy = OutboundFetchPolicy(ImportOptions())
        for url in [
            "file:///etc/passwd", "gopher://127.0.0.1:80/_GET", "ftp://example.org/x", "http://example.org:22/x",
            "http://example.org:0/x", "http://example.org:99999/x", "http://example.org:/x", "http://example.org:8o/x",
            "http:/example.org/x", "//example.org/x", "http://exa mple.org/x", "http://ex%61mple.org/x",
            "http://example.org\\@evil/x", "http://[::1/x", "http://[127.0.0.1]/x", "http://[fe80::1%25eth0]/x",
            "http://user:pw@example.org/x", "http://@example.org/x", "http:///x", "",
            "http://example.org/\u{0}", "http://éxample.org/x",
        ] {
            #expect(throws: OutboundFetchRefusal.self, "\(url)") { try policy.checkSyntax(url) }
        }
    }

    @Test func theAllowListMatchesTheHostExactly() throws {
        let policy = OutboundFetchPolicy(ImportOptions(allowedPorts: [80, 8080], allowedHosts: ["127.0.0.1", "[::1]", "Mirror.Local"]))
        #expect(try policy.checkSyntax("http://127.0.0.1:8080/x").operatorAllowed)
        #expect(try policy.checkSyntax("http://[::1]/x").operatorAllowed)
        #expect(try policy.checkSyntax("http://MIRROR.local/x").operatorAllowed)
        for other in ["http://127.1/x", "http://localhost/x", "http://2130706433/x", "http://127.0.0.2/x", "http://example.org/x"] {
            #expect(throws: OutboundFetchRefusal.self, "\(other)") { try policy.checkSyntax(other) }
        }
        // a listed host's addresses are trusted
        let (url, named) = try policy.checkSyntax("http://127.0.0.1/x")
        #expect(try policy.checkAddresses([IPAddress("127.0.0.1")!], of: url, operatorAllowed: named).address == IPAddress("127.0.0.1"))
    }

    @Test func credentialsNeverAppearInRefusals() {
        let policy = OutboundFetchPolicy(ImportOptions())
        for url in ["http://user:s3cret@example.org/x", "http://s3cret@10.0.0.1/x", "ftp://a:s3cret@h/x", "a:s3cret@h/x"] {
            do throws(OutboundFetchRefusal) {
                _ = try policy.checkSyntax(url)
                Issue.record("\(url) passed")
            } catch {
                #expect(!error.description.contains("s3cret"), "\(error)")
                #expect(error.redactedURL.contains("***@"), "\(error)")
            }
        }
        #expect(FetchURL.redacted("http://u:p@h:1/a@b?c@d") == "http://***@h:1/a@b?c@d")
        #expect(FetchURL.redacted("http://h/x\ny") == "http://h/x%0Ay", "no forged log lines")
    }

    @Test func redirectLocationsResolveAgainstTheCurrentURL() throws {
        let base = try FetchURL(parsing: "http://Example.org/a/b?q#frag")
        #expect(base.absoluteString == "http://example.org:80/a/b?q")
        #expect(try base.resolving("/c").absoluteString == "http://example.org:80/c")
        #expect(try base.resolving("c?d").absoluteString == "http://example.org:80/a/c?d")
        #expect(try base.resolving("//other.org:8080/z").absoluteString == "http://other.org:8080/z")
        #expect(try base.resolving("https://x.org/").absoluteString == "https://x.org:443/")
        #expect(try base.resolving("/next?to=http://127.0.0.1/").host == "example.org")
        #expect(throws: FetchURL.Invalid.self) { try base.resolving("http://u:p@x.org/") }
        #expect(throws: FetchURL.Invalid.self) { try base.resolving("file:///etc/passwd") }
    }
}
