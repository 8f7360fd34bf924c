import Foundation
import GlimpseHTTP
import GlimpseServer
import Testing

// The cap on open connections, on the real listener: thousands of idle connections must not keep new clients out.

private let never = Duration.seconds(3_600)
private let quietTimeouts = ConnectionTimeouts(idle: never, requestHead: never, bodyStall: never, send: never)

/// Opens `count` connections that send nothing. Throws (so the caller skips) when this process cannot hold that
/// many descriptors: each connection costs two here, the client's and the server's end.
private func openIdleConnections(_ count: Int, port: Int) async throws -> [RawSocket] {
    var sockets: [RawSocket] = []
    sockets.reserveCapacity(count)
    do {
        for _ in 0..<count { sockets.append(try await RawSocket.connect(port: port)) }
    } catch {
        sockets.forEach { $0.close() }
        throw error
    }
    return sockets
}

private func getImage(_ id: String) -> String {
    "GET /v2/images/\(id) HTTP/1.1\r\nHost: x\r\nX-Project-Id: p-owner\r\nX-Roles: reader,member\r\n\r\n"
}

/// Whether this process may open `descriptors` files, after raising its soft limit to the hard limit.
private func canOpen(_ descriptors: Int) -> Bool {
    (OpenFileLimit.raiseToHardLimit() ?? 0) >= descriptors
}

@Suite(.serialized) struct ConnectionLimitTests {
    @Test func twoThousandIdleConnectionsLeaveNewClientsServed() async throws {
        guard canOpen(2 * 2_000 + 512) else {
            print("skipped: the open-file hard limit \(OpenFileLimit.current() ?? 0) is below what 2,000 connections need")
            return
        }
        try await withGlimpse(timeouts: quietTimeouts) { api, port in
            let idle = try await openIdleConnections(2_000, port: port)
            defer { idle.forEach { $0.close() } }
            for _ in 0..<10 {
                let id = try await api.createImage()
                #expect(try await api.get("/v2/images/\(id)").status == .ok)
            }
            #expect(idle.filter(\.isHungUp).isEmpty, "under the cap, idle connections are left alone")
        }
    }

    /// Past the cap, the longest-idle connections make room: with a cap of 50, 2,000 idle connections are closed
    /// oldest first as new ones come, and a new client is still served.
    @Test func pastTheCapTheLongestIdleConnectionsAreClosedForNewOnes() async throws {
        guard canOpen(2 * 2_000 + 512) else {
            print("skipped: the open-file hard limit \(OpenFileLimit.current() ?? 0) is below what 2,000 connections need")
            return
        }
        try await withGlimpse(timeouts: quietTimeouts, maxConnections: 50) { api, port in
            let id = try await api.createImage()
            let idle = try await openIdleConnections(2_000, port: port)
            defer { idle.forEach { $0.close() } }
            // (The test client's own kept-alive connection was among the first to go: new requests use new sockets.)
            let answer = try await RawSocket.request(port: port, getImage(id))
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(200))")
            // Every connection but the newest few has been closed by the server (the test client holds one too).
            try await waitUntil("all but the newest connections are closed") {
                idle.filter(\.isHungUp).count >= 2_000 - 50
            }
            let survivors = idle.indices.filter { !idle[$0].isHungUp }
            // Connections are admitted on two event loops, so the order is only roughly the connecting order.
            #expect(survivors.allSatisfy { $0 >= 2_000 - 200 }, "the oldest went first; open: \(survivors)")
        }
    }

    /// When every connection is inside a request, nothing may be given up: a new connection is closed at once,
    /// before it can send anything, instead of waiting in the backlog or taking a descriptor for good.
    @Test func pastTheCapWithEveryConnectionBusyANewConnectionIsRefusedAtOnce() async throws {
        try await withGlimpse(timeouts: quietTimeouts, maxConnections: 3) { api, port in
            let ids = [try await api.createImage(), try await api.createImage(), try await api.createImage()]
            // Three uploads fill the cap (the test client's own idle connection makes room for the third). The
            // server's `100 Continue` shows each request head was read: that connection is now inside a request.
            var uploads: [RawSocket] = []
            defer { uploads.forEach { $0.close() } }
            for id in ids {
                let socket = try await RawSocket.connect(port: port)
                uploads.append(socket)
                try socket.send(
                    "PUT /v2/images/\(id)/file HTTP/1.1\r\nHost: x\r\nX-Project-Id: p-owner\r\nX-Roles: reader,member\r\n"
                        + "Content-Type: application/octet-stream\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n")
                _ = try await socket.read(until: "100 Continue")
                try socket.send("abc")
            }
            for _ in 0..<3 {
                let refused = try await RawSocket.connect(port: port)
                defer { refused.close() }
                let end = try await refused.waitForClose()
                #expect(end.closed && end.received == 0, "a new connection is closed unanswered")
            }
            #expect(uploads.filter(\.isHungUp).isEmpty, "connections inside a request are never given up")
            // When an upload ends its connection is idle, and makes room for the next client.
            try uploads[0].send(Array(repeating: 1, count: 997))
            _ = try await uploads[0].read(until: "HTTP/1.1 204")
            let answer = try await RawSocket.request(port: port, getImage(ids[0]))
            #expect(answer.hasPrefix("HTTP/1.1 200") && answer.contains(#""active""#), "\(answer.prefix(300))")
            try await waitUntil("the finished upload's idle connection made room") { uploads[0].isHungUp }
        }
    }
}
