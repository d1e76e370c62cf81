import Foundation
import Synchronization

/// Cancels tasks whose deadline has passed, from one thread that looks every
/// 50 ms while any are registered and sleeps otherwise.
///
/// The agent's default deadline covers every call that brings none, so its
/// timer must cost next to nothing: registering is a locked dictionary insert
/// and removal, with no timer to schedule and cancel (a NIO scheduled task
/// from a caller's thread wakes the event loop twice per call; a cancelled
/// `Task.sleep` stays queued in dispatch until its deadline). Deadlines fire
/// up to 50 ms late.
final class DeadlineSweeper: Sendable {
    static let shared = DeadlineSweeper()

    /// How often registered deadlines are checked.
    static let tick: Duration = .milliseconds(50)

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var started = false
    }

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let expire: @Sendable () -> Void
    }

    private let state = Mutex(State())
    /// Signalled when the first deadline is registered: the thread sleeps on
    /// it (a futex) while there is nothing to watch.
    private let wakeUp = DispatchSemaphore(value: 0)

    /// Calls `expire` once `deadline` has passed, unless ``cancel(_:)`` came first.
    func register(deadline: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> UInt64 {
        let (id, start, wake) = state.withLock { state in
            state.nextID += 1
            state.entries[state.nextID] = Entry(deadline: deadline, expire: expire)
            defer { state.started = true }
            return (state.nextID, !state.started, state.entries.count == 1)
        }
        if start {
            let thread = Thread { [self] in loop() }
            thread.name = "virthost-deadlines"
            thread.start()
        }
        if wake { wakeUp.signal() }
        return id
    }

    func cancel(_ id: UInt64) {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }

    private func loop() {
        Thread.current.name = "virthost-deadlines"
        while true {
            let now = ContinuousClock.now
            let (expired, idle) = state.withLock { state -> ([@Sendable () -> Void], Bool) in
                var expired: [@Sendable () -> Void] = []
                for (id, entry) in state.entries where entry.deadline <= now {
                    expired.append(entry.expire)
                    state.entries.removeValue(forKey: id)
                }
                return (expired, state.entries.isEmpty)
            }
            for expire in expired { expire() }
            // A signal left over from an earlier registration only makes one
            // extra pass.
            if idle { wakeUp.wait() } else { Thread.sleep(forTimeInterval: 0.05) }
        }
    }
}

/// Lets another thread cancel the task that registered itself here, while
/// it is registered.
///
/// It keeps an `UnsafeCurrentTask` beyond `withUnsafeCurrentTask`'s closure,
/// which that API warns against because the task may have ended by the time
/// the reference is used. Here it cannot have: the reference is set and
/// cleared under the lock by the task itself, inside ``running(_:)``, and
/// ``cancel()`` uses it only under the same lock, so it is only ever used
/// while the task waits in `running`. (The safe alternative, a second child
/// task per call to wait for the timer, costs a task on every call.)
final class TaskCanceller: Sendable {
    private struct State: @unchecked Sendable {  // UnsafeCurrentTask is not Sendable; see above
        var task: UnsafeCurrentTask?
        var fired = false
    }

    private let state = Mutex(State())

    /// Runs `body` with the current task open to ``cancel()``.
    func running<T>(_ body: () async throws -> T) async throws -> T {
        withUnsafeCurrentTask { task in state.withLock { $0.task = task } }
        defer { state.withLock { $0.task = nil } }
        if state.withLock({ $0.fired }) { withUnsafeCurrentTask { $0?.cancel() } }
        return try await body()
    }

    /// Cancels the task if it still runs ``running(_:)``; marks this as fired.
    func cancel() {
        state.withLock { state in
            state.fired = true
            state.task?.cancel()
        }
    }

    var hasFired: Bool { state.withLock { $0.fired } }
}
