// Where boot tests live while they run and for a while after: in memory, bounded. A test runs inside this
// process (its throwaway server is deleted at the next start if the process ends first), so it is not stored.

/// The boot tests of this process, newest kept: at most `capacity` finished ones are remembered.
actor BootTestRegistry {
    static let capacity = 500
    private var tests: [String: BootTest] = [:]
    private var finishedOrder: [String] = []

    /// Inserts `test` unless its project already runs `limit` tests; returns whether it was inserted.
    func insert(_ test: BootTest, limit: Int) -> Bool {
        guard running(projectID: test.projectID) < limit else { return false }
        tests[test.id] = test
        return true
    }

    /// Forgets a test that never started (its server could not be created).
    func remove(_ id: String) { tests[id] = nil }

    func get(_ id: String) -> BootTest? { tests[id] }

    /// Applies `change` to test `id` and returns the result; a finished test is remembered in order, and the
    /// oldest finished tests are forgotten past `capacity`.
    @discardableResult
    func update(_ id: String, _ change: (inout BootTest) -> Void) -> BootTest? {
        guard var test = tests[id] else { return nil }
        let wasRunning = test.status == .running
        change(&test)
        tests[id] = test
        if wasRunning, test.status != .running {
            finishedOrder.append(id)
            while finishedOrder.count > Self.capacity { tests[finishedOrder.removeFirst()] = nil }
        }
        return test
    }

    /// Tests still running (a limit per project keeps one caller from filling the node with throwaway servers).
    func running(projectID: String) -> Int { tests.values.filter { $0.projectID == projectID && $0.status == .running }.count }
}
