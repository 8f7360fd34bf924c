// The record of one boot test: what was asked, where it stands, the steps so far and the outcome.

import GlimpseCore

/// One boot test as `GET /v2.1/os-glimpse-boot-tests/{id}` shows it.
public struct BootTest: Sendable {
    public enum Status: String, Sendable {
        case running, passed, failed
    }

    /// One step of the run, with when it happened (microseconds since the epoch) and what it found.
    public struct Step: Sendable {
        public var name: String
        public var at: Int64
        public var detail: String
    }

    public var id: String
    public var projectID: String
    public var userID: String
    public var imageID: String
    public var flavorID: String
    public var serverID: String?
    public var timeoutSeconds: Int
    /// How the guest shows it is up: "guest-agent" or "console".
    public var readiness: String
    public var status: Status = .running
    public var reason: String?
    public var steps: [Step] = []
    public var createdAt: Int64
    public var finishedAt: Int64?
    /// Whether the outcome was recorded on the image; `imageNote` says why not.
    public var imageUpdated = false
    public var imageNote: String?

    /// Records a step; host paths in `detail` are hidden unless it speaks of the guest's own files (`guest`).
    mutating func step(_ name: String, _ detail: String, guest: Bool = false) {
        steps.append(Step(name: name, at: NovaTime.now(), detail: guest ? detail : HostPaths.redact(detail)))
    }
}
