// A bare TCP client for connection-level tests: what a hostile or broken client does (connect and say nothing,
// send half a request, stall an upload, stop reading), observed through the socket's own state. Non-blocking with
// short async sleeps, so waiting on the server never blocks a thread it might need.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

struct RawSocket: Sendable {
    let fd: Int32

    /// Connects to 127.0.0.1:port. `receiveBuffer` shrinks SO_RCVBUF before connecting (a client that reads little).
    static func connect(port: Int, receiveBuffer: Int32? = nil, within: Duration = .seconds(60)) async throws -> RawSocket {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw RawSocketError.system("socket", errno) }
        let raw = RawSocket(fd: fd)
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            guard errno == EINPROGRESS else {
                let e = errno
                raw.close()
                throw RawSocketError.system("connect", e)
            }
            let deadline = ContinuousClock.now + within
            while !raw.poll(POLLOUT) {
                guard ContinuousClock.now < deadline else {
                    raw.close()
                    throw RawSocketError.timedOut("connect")
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else {
                raw.close()
                throw RawSocketError.system("connect", error)
            }
        }
        return raw
    }

    func close() { _ = Glibc.close(fd) }

    /// Sends all of `bytes` (the small amounts these tests send fit in the socket buffer).
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw RawSocketError.system("send", errno)
            }
            offset += n
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// What a non-blocking read finds now.
    enum ReadResult { case data([UInt8]), nothingYet, closed }

    func readNow() -> ReadResult {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if n > 0 { return .data(Array(buffer[0..<n])) }
        if n == 0 { return .closed }
        return errno == EAGAIN || errno == EINTR ? .nothingYet : .closed
    }

    /// Reads until the text received contains `marker`; throws if the connection closes first or `within` passes.
    func read(until marker: String, within: Duration = .seconds(60)) async throws -> String {
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            switch readNow() {
            case .data(let bytes):
                received += bytes
                let text = String(decoding: received, as: UTF8.self)
                if text.contains(marker) { return text }
            case .nothingYet: try await Task.sleep(for: .milliseconds(10))
            case .closed: throw RawSocketError.closedEarly(String(decoding: received, as: UTF8.self))
            }
        }
        throw RawSocketError.timedOut("reading until \(marker)")
    }

    /// Reads and drops whatever arrives until the server closes the connection. Returns the bytes received and
    /// whether it closed within `within`.
    func waitForClose(within: Duration = .seconds(60)) async throws -> (closed: Bool, received: Int) {
        var received = 0
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            switch readNow() {
            case .data(let bytes): received += bytes.count
            case .nothingYet: try await Task.sleep(for: .milliseconds(20))
            case .closed: return (true, received)
            }
        }
        return (false, received)
    }

    /// Sends one request with `Connection: close` on a new connection and returns the whole answer.
    static func request(port: Int, _ head: String) async throws -> String {
        let socket = try await connect(port: port)
        defer { socket.close() }
        try socket.send(head.replacingOccurrences(of: "\r\n\r\n", with: "\r\nConnection: close\r\n\r\n"))
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            switch socket.readNow() {
            case .data(let bytes): received += bytes
            case .nothingYet: try await Task.sleep(for: .milliseconds(10))
            case .closed: return String(decoding: received, as: UTF8.self)
            }
        }
        throw RawSocketError.timedOut("request")
    }

    /// Whether the server still holds its end of this connection (an established socket in /proc/net/tcp from
    /// the server's port to this socket's port). A server that gives up on a connection by timeout does not always
    /// tell the client (the kernel sends no reset when it abandons unacknowledged data), so tests look here.
    func serverEndIsEstablished(serverPort: Int) -> Bool {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let clientPort = Int(UInt16(bigEndian: address.sin_port))
        let local = String(format: ":%04X", serverPort)
        let remote = String(format: ":%04X", clientPort)
        // procfs files report size 0: read to the end rather than by size.
        guard let data = FileHandle(forReadingAtPath: "/proc/net/tcp")?.readDataToEndOfFile() else { return false }
        let table = String(decoding: data, as: UTF8.self)
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[1].hasSuffix(local) && fields[2].hasSuffix(remote) && fields[3] == "01"
        }
    }

    /// Whether the connection was reset or hung up, without reading what is buffered.
    var isHungUp: Bool {
        // POLLRDHUP (the peer closed its side) needs _GNU_SOURCE, which the Glibc module does not define.
        let peerClosed: Int16 = 0x2000
        var p = pollfd(fd: fd, events: peerClosed, revents: 0)
        guard Glibc.poll(&p, 1, 0) == 1 else { return false }
        return p.revents & (Int16(POLLHUP | POLLERR) | peerClosed) != 0
    }

    private func poll(_ events: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(events), revents: 0)
        return Glibc.poll(&p, 1, 0) == 1 && p.revents & Int16(events) != 0
    }
}

enum RawSocketError: Error, CustomStringConvertible {
    case system(String, Int32)
    case timedOut(String)
    case closedEarly(String)

    var description: String {
        switch self {
        case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
        case .timedOut(let what): "timed out \(what)"
        case .closedEarly(let received): "closed by the server after: \(received.prefix(300))"
        }
    }
}
