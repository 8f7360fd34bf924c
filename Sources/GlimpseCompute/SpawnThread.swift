import Foundation

/// One thread, alive as long as the process, that starts every helper program. A child started with
/// `setpriv --pdeathsig KILL` is killed when the *thread* that spawned it exits; Swift's pool threads can exit
/// while Glimpse lives (which would kill a helper mid-work), this one never does, so the signal fires exactly when
/// Glimpse dies.
final class SpawnThread: @unchecked Sendable {
    static let shared = SpawnThread()

    private let condition = NSCondition()
    private var queue: [@Sendable () -> Void] = []

    private init() {
        let thread = Thread { [self] in loop() }
        thread.name = "glimpse-helper-spawner"
        thread.start()
    }

    /// Runs `work` on the spawner thread (soon; spawning is quick, so the queue stays short).
    func perform(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        queue.append(work)
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let work = queue.removeFirst()
            condition.unlock()
            work()
        }
    }
}
