import Synchronization

/// A clock the brute-force tests move by hand, so lockouts and windows are checked before and after without
/// depending on how fast the machine runs the test.
final class ManualClock: Sendable {
    let start = ContinuousClock.now
    let offset = Mutex<Duration>(.zero)

    var now: @Sendable () -> ContinuousClock.Instant {
        { [self] in start + offset.withLock { $0 } }
    }

    func advance(_ d: Duration) { offset.withLock { $0 += d } }
}
