// The outcome of one command run inside a guest through its agent (`guest-exec`).

/// How a command run in a guest ended, and the end of what it printed.
public struct GuestCommandResult: Sendable, Equatable {
    /// The exit status; nil when a signal ended the command.
    public var exitCode: Int64?
    /// The signal that ended the command, if one did.
    public var signal: Int64?
    /// The last bytes of its standard output and error (decoded leniently), for reports.
    public var output: String

    public init(exitCode: Int64?, signal: Int64?, output: String) {
        self.exitCode = exitCode
        self.signal = signal
        self.output = output
    }

    public var succeeded: Bool { exitCode == 0 && signal == nil }

    /// "exit status 1" or "killed by signal 9".
    public var summary: String {
        if let signal { return "killed by signal \(signal)" }
        return "exit status \(exitCode.map(String.init) ?? "unknown")"
    }
}
