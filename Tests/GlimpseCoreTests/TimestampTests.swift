import GlimpseCore
import Testing

@Suite("Timestamp")
struct TimestampTests {
    @Test func formatsWholeSecondsInUTC() {
        #expect(Timestamp(microseconds: 0).iso8601 == "1970-01-01T00:00:00Z")
        #expect(Timestamp(microseconds: 1_795_416_325_999_999).iso8601 == "2026-11-23T06:45:25Z")
        #expect(Timestamp(microseconds: 951_782_400_000_000).iso8601 == "2000-02-29T00:00:00Z")
    }

    @Test(arguments: [
        ("2026-11-23T06:45:25Z", 1_795_416_325_000_000),
        ("2026-11-23T06:45:25.5Z", 1_795_416_325_500_000),
        ("2026-11-23T08:45:25+02:00", 1_795_416_325_000_000),
        ("2026-11-23T06:45Z", 1_795_416_300_000_000),
        ("2026-11-23", 1_795_392_000_000_000),
        // More fraction digits than microseconds: the extra ones are dropped (this used to trap the process).
        ("2026-11-23T06:45:25.1234567Z", 1_795_416_325_123_456),
        ("2026-11-23T06:45:25.123456789012345678901234567890Z", 1_795_416_325_123_456),
    ] as [(String, Int64)])
    func parsesTheFormsGlanceAccepts(_ text: String, _ micros: Int64) {
        #expect(Timestamp(iso8601: text)?.microseconds == micros)
    }

    @Test(arguments: ["", "yesterday", "2026-13-01T00:00:00Z", "2026-11-23T25:00:00Z", "2026-11-23T06:45:25Q"])
    func rejectsNonsense(_ text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }
}
