#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GlimpseCore

/// A connection to a Unix socket that carries one JSON object per line each way (QMP and the QEMU guest agent).
/// Every read and write is bounded by a deadline, and a line longer than `maxLine` ends the connection, so a stuck
/// or hostile peer (the agent speaks for the guest) can neither hang nor flood the caller. The blocking socket
/// calls run on a dispatch queue, never on the cooperative thread pool.
final class JSONLineChannel: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let fd: Int32
    private let queue = DispatchQueue(label: "glimpse-json-line-channel")
    private var buffer: [UInt8] = []
    let maxLine: Int

    private init(fd: Int32, maxLine: Int) {
        self.fd = fd
        self.maxLine = maxLine
    }

    deinit { close(fd) }

    /// Connects to `path`, retrying while the socket is absent or refuses (QEMU creates it before it listens).
    static func connect(_ path: String, timeout: Duration, maxLine: Int = 1 << 20) async throws -> JSONLineChannel {
        let deadline = ContinuousClock.now + timeout
        while true {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            let capacity = MemoryLayout.size(ofValue: addr.sun_path)
            guard bytes.count < capacity else {
                close(fd)
                throw Failure(description: "socket path too long (\(bytes.count) bytes)")
            }
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
                raw[bytes.count] = 0
            }
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if rc == 0 { return JSONLineChannel(fd: fd, maxLine: maxLine) }
            let err = errno
            close(fd)
            guard err == ENOENT || err == ECONNREFUSED || err == EAGAIN, ContinuousClock.now < deadline else {
                throw Failure(description: "could not connect (errno \(err))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Sends `message` as one line.
    func send(_ message: JSONValue, timeout: Duration) async throws {
        let line = Array((Self.encode(message) + "\n").utf8)
        try await onQueue { try self.writeAll(line, deadline: ContinuousClock.now + timeout) }
    }

    /// Sends raw bytes (the agent's 0xFF sync delimiter request).
    func sendRaw(_ bytes: [UInt8], timeout: Duration) async throws {
        try await onQueue { try self.writeAll(bytes, deadline: ContinuousClock.now + timeout) }
    }

    /// The next line that parses as JSON (blank lines and 0xFF delimiters are skipped).
    func receive(timeout: Duration) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while true {
            let line = try await onQueue { try self.readLine(deadline: deadline) }
            let trimmed = line.filter { $0 != 0xFF && $0 != 0x0D }
            if trimmed.allSatisfy({ $0 == 0x20 }) { continue }
            do {
                return try JSONDecoder().decode(JSONValue.self, from: Data(trimmed))
            } catch {
                throw Failure(description: "not JSON: \(String(decoding: trimmed.prefix(200), as: UTF8.self))")
            }
        }
    }

    func shutdown() { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    private func onQueue<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            queue.async { c.resume(with: Result { try work() }) }
        }
    }

    private func wait(for events: Int16, deadline: ContinuousClock.Instant) throws {
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw Failure(description: "timed out") }
            let ms = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
            var p = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&p, 1, ms)
            if n < 0, errno == EINTR { continue }
            if n < 0 { throw Failure(description: "poll: errno \(errno)") }
            if n > 0 { return }
        }
    }

    private func writeAll(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws {
        var offset = 0
        while offset < bytes.count {
            try wait(for: Int16(POLLOUT), deadline: deadline)
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR || errno == EAGAIN { continue }
            guard n > 0 else { throw Failure(description: "connection closed while sending") }
            offset += n
        }
    }

    private func readLine(deadline: ContinuousClock.Instant) throws -> [UInt8] {
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<nl])
                buffer.removeSubrange(...nl)
                return line
            }
            guard buffer.count <= maxLine else { throw Failure(description: "a line longer than \(maxLine) bytes") }
            try wait(for: Int16(POLLIN), deadline: deadline)
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR || errno == EAGAIN { continue }
            guard n > 0 else { throw Failure(description: "connection closed") }
            buffer += chunk[0..<n]
        }
    }

    /// Compact JSON text of `value` (object keys sorted, so lines are reproducible in logs).
    static func encode(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? String(d) : "null"
        case .string(let s): return quote(s)
        case .array(let a): return "[" + a.map(encode).joined(separator: ",") + "]"
        case .object(let o):
            return "{" + o.keys.sorted().map { quote($0) + ":" + encode(o[$0] ?? .null) }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    out += String(format: "\\u%04x", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
