import Foundation
import GlimpseCore

/// A QEMU Machine Protocol session over a server's QMP socket: the greeting, capability negotiation, then commands
/// one at a time (asynchronous events in between are skipped). Only protocol here; the process is `GuestProcess`'s.
actor QMPClient {
    struct CommandError: Error, CustomStringConvertible {
        var command: String
        var message: String
        var description: String { "QMP \(command): \(message)" }
    }

    private let channel: JSONLineChannel
    let timeout: Duration

    private init(channel: JSONLineChannel, timeout: Duration) {
        self.channel = channel
        self.timeout = timeout
    }

    static func connect(_ path: String, timeout: Duration = .seconds(10)) async throws -> QMPClient {
        let channel = try await JSONLineChannel.connect(path, timeout: timeout)
        let greeting = try await channel.receive(timeout: timeout)
        guard greeting.objectValue?["QMP"] != nil else {
            throw CommandError(command: "greeting", message: "not a QMP greeting")
        }
        let client = QMPClient(channel: channel, timeout: timeout)
        _ = try await client.execute("qmp_capabilities")
        return client
    }

    /// Runs `command` and returns its `return` value; a QMP error becomes `CommandError`.
    func execute(_ command: String, _ arguments: [String: JSONValue]? = nil, timeout: Duration? = nil) async throws -> JSONValue {
        var message: [String: JSONValue] = ["execute": .string(command)]
        if let arguments { message["arguments"] = .object(arguments) }
        let limit = timeout ?? self.timeout
        try await channel.send(.object(message), timeout: limit)
        let deadline = ContinuousClock.now + limit
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw CommandError(command: command, message: "no answer") }
            let reply = try await channel.receive(timeout: left)
            guard let o = reply.objectValue, o["event"] == nil else { continue }
            if let error = o["error"]?.objectValue {
                throw CommandError(command: command, message: error["desc"]?.stringValue ?? "error")
            }
            return o["return"] ?? .null
        }
    }

    /// `query-status`'s status (running, paused, shutdown, internal-error, …).
    func status() async throws -> String {
        try await execute("query-status").objectValue?["status"]?.stringValue ?? "unknown"
    }

    func close() { channel.shutdown() }
}
