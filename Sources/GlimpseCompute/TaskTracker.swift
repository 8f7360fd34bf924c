import Foundation

/// Background work per server (builds, power actions, snapshots): every task is tracked, so deleting a server can
/// cancel and await its work, and shutdown can end all of it. Work that must survive a restart is also recorded in
/// the store (task_state, snapshot image id) and finished or undone by recovery.
actor TaskTracker {
    private var tasks: [String: [UUID: Task<Void, Never>]] = [:]
    private var closed = false

    /// Starts `body` for `key` unless the tracker is shut down.
    func run(_ key: String, _ body: @escaping @Sendable () async -> Void) {
        guard !closed else { return }
        let id = UUID()
        let task = Task {
            await body()
            self.finished(key, id)
        }
        tasks[key, default: [:]][id] = task
    }

    private func finished(_ key: String, _ id: UUID) {
        tasks[key]?[id] = nil
        if tasks[key]?.isEmpty == true { tasks[key] = nil }
    }

    /// Cancels the work of `key` and waits until it has ended.
    func cancelAndWait(_ key: String) async {
        let running = Array((tasks[key] ?? [:]).values)
        for t in running { t.cancel() }
        for t in running { await t.value }
    }

    /// Waits until `key` has no work (tests and orderly shutdown).
    func waitIdle(_ key: String) async {
        while let running = tasks[key], !running.isEmpty {
            for t in Array(running.values) { await t.value }
        }
    }

    /// Stops accepting work, cancels everything and waits for it.
    func shutdown() async {
        closed = true
        let all = tasks.values.flatMap { Array($0.values) }
        for t in all { t.cancel() }
        for t in all { await t.value }
    }

    var isBusy: Bool { !tasks.isEmpty }
}
