import Foundation
import GlimpseHTTP
import GlimpseServer
import HummingbirdTesting
import Logging
import Testing

// Connection timeouts on the real listener, set short (1-2 s) so the tests see each one act. The waits around them
// are generous (a minute): they bound a broken server, never measure a working one.

/// Runs `body` against a fresh Glimpse with the given connection settings; everything else as `withGlimpse`.
func withGlimpse(
    timeouts: ConnectionTimeouts, maxConnections: Int? = nil, _ body: @Sendable (API, Int) async throws -> Void
) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-conn-test-\(UUID().uuidString)")
        .path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var logger = Logger(label: "glimpse-conn-test")
    logger.logLevel = .error
    var config = GlimpseConfiguration(host: "127.0.0.1", port: 0, dataDirectory: dir, auth: .none)
    config.connectionTimeouts = timeouts
    config.maxConnections = maxConnections
    let app = try await GlimpseApplication.build(config, logger: logger)
    try await app.test(.live) { client in
        try await body(API(client: client, dataDirectory: dir), try #require(client.port))
    }
}

/// Long enough never to act during a test.
private let never = Duration.seconds(3_600)

/// A request answered 204 with no body (the data of a queued image), so answers on one connection are easy to count.
private func emptyAnswerRequest(_ id: String) -> String {
    "GET /v2/images/\(id)/file HTTP/1.1\r\nHost: x\r\nX-Project-Id: p-owner\r\nX-Roles: reader,member\r\n\r\n"
}

@Suite struct ConnectionTimeoutTests {
    @Test func idleKeptAliveConnectionIsClosedAfterTheIdleTimeout() async throws {
        let timeouts = ConnectionTimeouts(idle: .seconds(1), requestHead: never, bodyStall: never, send: never)
        try await withGlimpse(timeouts: timeouts) { api, port in
            let id = try await api.createImage()
            let socket = try await RawSocket.connect(port: port)
            defer { socket.close() }
            // Two requests on the connection: it is kept alive while it is used...
            try socket.send(emptyAnswerRequest(id))
            _ = try await socket.read(until: "HTTP/1.1 204")
            try socket.send(emptyAnswerRequest(id))
            _ = try await socket.read(until: "HTTP/1.1 204")
            // ...and closed once it sits idle.
            let end = try await socket.waitForClose()
            #expect(end.closed, "an idle kept-alive connection is closed")
            #expect(end.received == 0, "with no answer")
        }
    }

    @Test func connectionThatNeverSendsAByteIsClosedAfterTheRequestHeadTimeout() async throws {
        let timeouts = ConnectionTimeouts(idle: never, requestHead: .seconds(1), bodyStall: never, send: never)
        try await withGlimpse(timeouts: timeouts) { _, port in
            let socket = try await RawSocket.connect(port: port)
            defer { socket.close() }
            let end = try await socket.waitForClose()
            #expect(end.closed, "a connection that says nothing is not idle: the head timeout applies from connecting")
        }
    }

    @Test func halfSentRequestHeadIsClosedAfterTheRequestHeadTimeout() async throws {
        let timeouts = ConnectionTimeouts(idle: never, requestHead: .seconds(1), bodyStall: never, send: never)
        try await withGlimpse(timeouts: timeouts) { _, port in
            let socket = try await RawSocket.connect(port: port)
            defer { socket.close() }
            try socket.send("GET /v2/images HTTP/1.1\r\nHost: x\r\nX-Pro")
            let end = try await socket.waitForClose()
            #expect(end.closed)
        }
    }

    /// On a kept-alive connection the idle timeout (here an hour) gives way to the head timeout at the first byte
    /// of a next request, so a head sent a byte at a time cannot borrow the long idle allowance.
    @Test func halfSentNextRequestOnAKeptAliveConnectionGetsTheHeadTimeoutNotTheIdleOne() async throws {
        let timeouts = ConnectionTimeouts(idle: never, requestHead: .seconds(1), bodyStall: never, send: never)
        try await withGlimpse(timeouts: timeouts) { _, port in
            // Raw sockets only: the test client's own kept-alive connection would itself meet the 1 s head
            // timeout on a loaded machine.
            let socket = try await RawSocket.connect(port: port)
            defer { socket.close() }
            try socket.send("GET /v2/images/00000000-0000-0000-0000-000000000000 HTTP/1.1\r\nHost: x\r\nX-Project-Id: p-owner\r\nX-Roles: reader\r\n\r\n")
            _ = try await socket.read(until: "HTTP/1.1 404")
            try socket.send("GET /v2/images HTTP/1.1\r\nHo")
            let end = try await socket.waitForClose()
            #expect(end.closed)
        }
    }

    @Test func stalledUploadClosesTheConnectionAndReturnsTheImageToQueuedKeepingNothing() async throws {
        let timeouts = ConnectionTimeouts(idle: never, requestHead: never, bodyStall: .seconds(3), send: never)
        try await withGlimpse(timeouts: timeouts) { api, port in
            let id = try await api.createImage()
            let socket = try await RawSocket.connect(port: port)
            defer { socket.close() }
            try socket.send(
                "PUT /v2/images/\(id)/file HTTP/1.1\r\nHost: x\r\nX-Project-Id: p-owner\r\nX-Roles: reader,member\r\n"
                    + "Content-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n")
            try socket.send(Array(repeating: 42, count: 10_000))
            // The client sends nothing more: the server ends the connection...
            let end = try await socket.waitForClose()
            #expect(end.closed, "a stalled upload's connection is closed")
            // ...and the upload fails the ordinary way: back to queued, no data kept, a new upload works.
            try await waitUntil("the image is queued again") { try await api.image(id)["status"]?.string == "queued" }
            #expect(try await api.image(id)["size"]?.isNull == true)
            try await waitUntil("no data kept") { api.blobFiles().isEmpty }
            try await api.upload(id, Payload.hello)
            #expect(try await api.image(id)["status"]?.string == "active")
        }
    }

    /// The stall timeout counts from the last byte, not from the start of the body: an upload that keeps sending,
    /// however slowly, is never cut off.
    @Test func slowUploadThatKeepsSendingCompletes() async throws {
        let timeouts = ConnectionTimeouts(idle: never, requestHead: never, bodyStall: .seconds(4), send: never)
        try await withGlimpse(timeouts: timeouts) { api, port in
            let id = try await api.createImage()
            let socket = try await RawSocket.connect(port: port)
            defer { socket.close() }
            // 8 s in all, twice the stall timeout, with a piece every 0.2 s.
            let pieces = 40
            try socket.send(
                "PUT /v2/images/\(id)/file HTTP/1.1\r\nHost: x\r\nX-Project-Id: p-owner\r\nX-Roles: reader,member\r\n"
                    + "Content-Type: application/octet-stream\r\nContent-Length: \(pieces * 100)\r\n\r\n")
            for _ in 0..<pieces {
                try socket.send(Array(repeating: 7, count: 100))
                try await Task.sleep(for: .milliseconds(200))
            }
            let answer = try await socket.read(until: "\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 204"), "\(answer)")
            #expect(try await api.image(id)["size"]?.int == Int64(pieces * 100))
        }
    }

    /// A client that stops reading a download: once the data it was sent stays unacknowledged past the send
    /// timeout (its receive window is closed), the connection is reset. The client read only part of the image.
    @Test func downloadTheClientStopsReadingIsResetAfterTheSendTimeout() async throws {
        let timeouts = ConnectionTimeouts(idle: never, requestHead: never, bodyStall: never, send: .seconds(1))
        try await withGlimpse(timeouts: timeouts) { api, port in
            let id = try await api.createImage()
            // Larger than everything loopback buffers between the two sockets (Linux's default maxima: 4 MiB send,
            // 6 MiB receive), yet small enough to upload quickly on a loaded machine.
            let size = 24 << 20
            try await api.upload(id, [UInt8](repeating: 9, count: size))
            let socket = try await RawSocket.connect(port: port, receiveBuffer: 4_096)
            defer { socket.close() }
            try socket.send(emptyAnswerRequest(id))
            #expect(socket.serverEndIsEstablished(serverPort: port), "the server holds the connection at first")
            try await waitUntil("the server gives the connection up") { !socket.serverEndIsEstablished(serverPort: port) }
            // Reading again reopens the window; the server's kernel no longer knows the connection and resets it.
            let end = try await socket.waitForClose()
            #expect(end.closed)
            #expect(end.received < size, "the client got \(end.received) of \(size) bytes")
        }
    }
}

/// Polls `condition` every 50 ms for up to a minute; fails the test with `what` if it never holds.
func waitUntil(
    _ what: String, within: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + within
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("never happened: \(what)", sourceLocation: sourceLocation)
    throw RawSocketError.timedOut(what)
}
