import GRPCCore
import Synchronization

/// Lets at most `perKey` holders per key (a machine) and `total` in all run
/// at once; the others wait, in order, asynchronously, until their deadline.
///
/// Used so that one machine's calls cannot take every libvirt thread: a
/// frozen QEMU (libvirt waits up to 30 s for its job lock) or a guest agent
/// that does not answer keeps only its own share of threads busy. The wait
/// is timed by the deadline sweeper, not a task per wait.
final class KeyedGate: Sendable {
    /// Holders at once per key, and in all.
    let perKey: Int
    let total: Int
    /// What a caller waits for, for the DEADLINE_EXCEEDED message.
    let what: String
    private let state = Mutex(State())

    private struct State {
        var running = 0
        var busy: [String: Int] = [:]
        var queue: [Waiter] = []
        var nextID: UInt64 = 0
    }

    private struct Waiter {
        let id: UInt64
        let key: String
        let continuation: CheckedContinuation<Bool, Never>
    }

    init(perKey: Int, total: Int, what: String) {
        self.perKey = max(1, perKey)
        self.total = max(1, total)
        self.what = what
    }

    /// Runs `body` once `key` (a machine) is free and a slot is open.
    func run<T: Sendable>(
        key: String, until deadline: ContinuousClock.Instant?, _ body: () async throws -> T
    ) async throws -> T {
        let id: UInt64 = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        // The deadline sweeper's timer, not a task per wait.
        let timer = deadline.map { DeadlineSweeper.shared.register(deadline: $0) { [self] in abandon(id) } }
        let granted = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now: Bool? = state.withLock { state in
                    if Task.isCancelled { return false }
                    if state.running < total, state.busy[key, default: 0] < perKey {
                        state.running += 1
                        state.busy[key, default: 0] += 1
                        return true
                    }
                    state.queue.append(Waiter(id: id, key: key, continuation: continuation))
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            abandon(id)
        }
        if let timer { DeadlineSweeper.shared.cancel(timer) }
        guard granted else {
            if Task.isCancelled { throw RPCError(code: .cancelled, message: "the call was cancelled while it waited for \(what)") }
            throw RPCError(code: .deadlineExceeded, message: "the deadline passed while the call waited for \(what)")
        }
        defer { release(key) }
        return try await body()
    }

    /// Calls waiting and running, for tests.
    var counts: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.queue.count) } }

    private func release(_ key: String) {
        let wake: [CheckedContinuation<Bool, Never>] = state.withLock { state in
            var wake: [CheckedContinuation<Bool, Never>] = []
            state.running -= 1
            state.busy[key, default: 1] -= 1
            if state.busy[key] == 0 { state.busy[key] = nil }
            var index = 0
            while index < state.queue.count, state.running < total {
                let waiter = state.queue[index]
                if state.busy[waiter.key, default: 0] >= perKey {
                    index += 1
                    continue
                }
                state.queue.remove(at: index)
                state.running += 1
                state.busy[waiter.key, default: 0] += 1
                wake.append(waiter.continuation)
            }
            return wake
        }
        for continuation in wake { continuation.resume(returning: true) }
    }

    private func abandon(_ id: UInt64) {
        let waiter: Waiter? = state.withLock { state in
            guard let index = state.queue.firstIndex(where: { $0.id == id }) else { return nil }
            return state.queue.remove(at: index)
        }
        waiter?.continuation.resume(returning: false)
    }
}

