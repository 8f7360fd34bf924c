#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore

/// Open files that a response wants sent with `sendfile(2)`, by token.
///
/// Why: Hummingbird's response body writer only takes byte buffers, so a download would cost a copy from the page
/// cache into memory and another into the socket. A handler may instead answer with the `sendfileHeader` set to a
/// token from here and an empty body of the right `Content-Length`; `SendfileWriter`, below Hummingbird's HTTP
/// codec, swaps the file in. Entries whose response never reached the writer (the client left first) are closed
/// after a minute.
public final class SendfileRegistry: Sendable {
    public static let shared = SendfileRegistry()
    public static let header = "x-glimpse-sendfile"

    struct Entry {
        var descriptor: Int32
        var range: Range<Int64>
        var registeredAt: NIODeadline
    }

    private let entries = NIOLockedValueBox([UInt64: Entry]())
    private static let abandonAfter = TimeAmount.seconds(60)

    /// Takes ownership of `descriptor` and returns the token to put in the response header.
    public func register(descriptor: Int32, range: Range<Int64>) -> String {
        let now = NIODeadline.now()
        let token = UInt64.random(in: 1...UInt64.max)
        let abandoned = entries.withLockedValue { entries -> [Int32] in
            let old = entries.filter { now - $0.value.registeredAt > Self.abandonAfter }
            for key in old.keys { entries[key] = nil }
            entries[token] = Entry(descriptor: descriptor, range: range, registeredAt: now)
            return old.values.map(\.descriptor)
        }
        for fd in abandoned { close(fd) }
        return String(token)
    }

    func take(_ token: String) -> Entry? {
        guard let key = UInt64(token) else { return nil }
        return entries.withLockedValue { $0.removeValue(forKey: key) }
    }

    var count: Int { entries.withLockedValue { $0.count } }
}
