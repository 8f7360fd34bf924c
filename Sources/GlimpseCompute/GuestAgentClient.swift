import Foundation
import GlimpseCore

/// The QEMU guest agent, reached through the virtio-serial port `org.qemu.guest_agent.0` that QEMU exposes as a
/// Unix socket on the host. The channel may hold stale replies (a previous client's, or ones the agent sent before
/// it was restarted), so each session starts with `guest-sync` and a fresh id and drops everything before that
/// id's echo. What the agent says comes from the guest: replies are bounded (`JSONLineChannel`) and every call has a
/// deadline.
actor GuestAgentClient {
    struct CommandError: Error, CustomStringConvertible {
        var command: String
        var message: String
        var description: String { "guest agent \(command): \(message)" }
    }

    private let channel: JSONLineChannel
    let timeout: Duration

    private init(channel: JSONLineChannel, timeout: Duration) {
        self.channel = channel
        self.timeout = timeout
    }

    /// Connects and synchronises; throws when the agent does not answer within `timeout`.
    static func connect(_ path: String, timeout: Duration = .seconds(5)) async throws -> GuestAgentClient {
        let channel = try await JSONLineChannel.connect(path, timeout: timeout, maxLine: 16 << 20)
        let client = GuestAgentClient(channel: channel, timeout: timeout)
        try await client.sync()
        return client
    }

    private func sync() async throws {
        let id = Int64.random(in: 1..<(1 << 31))
        let deadline = ContinuousClock.now + timeout
        try await channel.send(.object(["execute": .string("guest-sync"), "arguments": .object(["id": .int(id)])]), timeout: timeout)
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw CommandError(command: "guest-sync", message: "no answer") }
            let reply = try await channel.receive(timeout: left)
            if reply.objectValue?["return"] == .int(id) { return }
        }
    }

    /// Runs `command` and returns its `return` value; an agent error becomes `CommandError`.
    func execute(_ command: String, _ arguments: [String: JSONValue]? = nil, timeout: Duration? = nil) async throws -> JSONValue {
        var message: [String: JSONValue] = ["execute": .string(command)]
        if let arguments { message["arguments"] = .object(arguments) }
        let limit = timeout ?? self.timeout
        try await channel.send(.object(message), timeout: limit)
        let reply = try await channel.receive(timeout: limit)
        guard let o = reply.objectValue else { throw CommandError(command: command, message: "not an object") }
        if let error = o["error"]?.objectValue {
            throw CommandError(command: command, message: error["desc"]?.stringValue ?? "error")
        }
        return o["return"] ?? .null
    }

    func close() { channel.shutdown() }
}
