import Synchronization

/// A condition a test waited for did not come true in time.
struct WaitTimedOut: Error, CustomStringConvertible {
    let description: String
}

/// Polls `condition` until it holds, to order a test's events by what
/// happened rather than by a guessed sleep. Throws after `timeout`, so a bug
/// fails the test instead of hanging it.
func waitUntil(
    _ what: String, timeout: Duration = .seconds(10), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !(try await condition()) {
        guard ContinuousClock.now < deadline else { throw WaitTimedOut(description: "waited \(timeout) for \(what)") }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// A flag one task sets and another waits for.
final class Flag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    var isSet: Bool { state.withLock { $0 } }
}
