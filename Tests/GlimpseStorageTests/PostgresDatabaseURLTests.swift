import Foundation
import GlimpsePostgres
import Testing

/// `--database` URLs: what is accepted, what is refused, and that no password is ever printed.
@Suite("PostgreSQL database URL")
struct PostgresDatabaseURLTests {
    @Test func aTCPURLNamesUserHostPortAndDatabase() throws {
        let url = try PostgresDatabaseURL(parsing: "postgresql://glance@db.example:6543/images?sslmode=require")
        #expect(url.username == "glance" && url.host == "db.example" && url.port == 6543)
        #expect(url.database == "images" && url.tlsMode == .require && url.socketDirectory == nil)
        #expect(url.redacted == "postgresql://glance@db.example:6543/images?sslmode=require")
        let plain = try PostgresDatabaseURL(parsing: "postgres://glance@db/images")
        #expect(plain.port == 5432 && plain.tlsMode == .prefer)
    }

    @Test func aSocketURLNamesTheSocketDirectory() throws {
        let url = try PostgresDatabaseURL(parsing: "postgresql://glance@/images?host=/run/postgresql")
        #expect(url.host == nil && url.socketDirectory == "/run/postgresql" && url.database == "images")
        #expect(url.clientConfiguration.unixSocketPath == "/run/postgresql/.s.PGSQL.5432")
        #expect(url.redacted == "postgresql://glance@/images?host=/run/postgresql")
    }

    @Test func anInlinePasswordIsRefusedWithoutEchoingIt() {
        do {
            _ = try PostgresDatabaseURL(parsing: "postgresql://glance:s3cret@db/images")
            Issue.record("a URL with a password was accepted")
        } catch {
            #expect(error.description.contains("PGPASSWORD") && error.description.contains("--database-password-file"))
            #expect(!error.description.contains("s3cret"))
        }
    }

    @Test(arguments: ["http://glance@db/images", "postgresql://db/images", "postgresql:///images", "postgresql://u@db/x?foo=1"])
    func malformedURLsAreRefused(_ text: String) {
        #expect(throws: PostgresDatabaseURLError.self) { try PostgresDatabaseURL(parsing: text) }
    }

    @Test func thePasswordComesFromTheFileElsePGPASSWORDAndIsNeverLogged() throws {
        let file = NSTemporaryDirectory() + "glimpse-pgpass-" + UUID().uuidString
        try "from-file\nignored\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        var url = try PostgresDatabaseURL(parsing: "postgresql://glance@db/images")
        try url.loadPassword(passwordFile: nil, environment: ["PGPASSWORD": "from-env"])
        #expect(url.password == "from-env")
        try url.loadPassword(passwordFile: file, environment: ["PGPASSWORD": "from-env"])
        #expect(url.password == "from-file" && url.clientConfiguration.password == "from-file")
        #expect(!url.redacted.contains("from-file"))
        #expect(throws: PostgresDatabaseURLError.self) {
            try url.loadPassword(passwordFile: file + "-missing", environment: [:])
        }
    }
}
