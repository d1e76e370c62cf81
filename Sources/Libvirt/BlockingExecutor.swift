import CVirtHostSys
import Foundation
import Synchronization

/// A fixed set of threads for blocking libvirt calls.
///
/// libvirt calls block for a network round trip (or much longer), so they must
/// never run on Swift concurrency's cooperative pool or a NIO event loop. Each
/// job runs wholly on one thread, so libvirt's thread-local error is read where
/// it was set.
public final class BlockingExecutor: Sendable {
    /// Queued jobs from `head` on; taken slots are nil so their captures are
    /// released at once.
    private struct Queue {
        var jobs: [(@Sendable () -> Void)?] = []
        var head = 0
        var stopped = false
    }

    private let queue = Mutex(Queue())
    /// One signal per queued job (and per worker at shutdown): workers sleep
    /// in the kernel (a futex) while there is nothing to do.
    private let ready = DispatchSemaphore(value: 0)
    private let threads: Int

    /// Starts `threads` worker threads named `name-N`.
    public init(threads: Int, name: String = "libvirt") {
        precondition(threads > 0, "BlockingExecutor needs at least one thread")
        self.threads = threads
        for index in 0..<threads {
            // Named from inside, for the kernel (top -H, perf) and Foundation:
            // Foundation's setter alone sometimes left the kernel's name
            // inherited from the thread that started it.
            let thread = Thread { [self] in
                _ = virthost_set_thread_name("\(name)-\(index)")
                Thread.current.name = "\(name)-\(index)"
                self.work()
            }
            thread.start()
        }
    }

    deinit { shutdown() }

    /// Lets the workers finish queued jobs and exit.
    public func shutdown() {
        let first = queue.withLock { queue in
            defer { queue.stopped = true }
            return !queue.stopped
        }
        if first { for _ in 0..<threads { ready.signal() } }
    }

    /// Runs `body` on a worker thread and returns its result to the caller.
    ///
    /// When the calling task is cancelled the caller gets `CancellationError`
    /// at once; `body` itself cannot be interrupted, so it runs to its end on
    /// the worker and its result is dropped.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let once = ResumeOnce<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                once.set(continuation)
                submit { once.resume(with: Result { try body() }) }
            }
        } onCancel: {
            once.resume(with: .failure(CancellationError()))
        }
    }

    /// Queues a job without waiting for it.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        queue.withLock { $0.jobs.append(job) }
        ready.signal()
    }

    private func work() {
        while true {
            ready.wait()
            let next = queue.withLock { queue -> (@Sendable () -> Void)?? in
                guard queue.head < queue.jobs.count else { return queue.stopped ? .none : .some(nil) }
                let job = queue.jobs[queue.head]
                queue.jobs[queue.head] = nil
                queue.head += 1
                if queue.head == queue.jobs.count {
                    queue.jobs.removeAll(keepingCapacity: true)
                    queue.head = 0
                } else if queue.head >= 64 && queue.head * 2 >= queue.jobs.count {
                    // Under steady load the queue may never drain: compact it.
                    queue.jobs.removeFirst(queue.head)
                    queue.head = 0
                }
                return .some(job)
            }
            // Stopped with nothing left: this worker ends. (A shutdown signal
            // taken while jobs remain runs one of them; the last workers
            // still find their own signals.)
            guard let job = next else { return }
            job?()
        }
    }
}

/// A continuation resumed by whichever comes first: the job or a cancellation.
private final class ResumeOnce<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var early: Result<T, any Error>?
        var done = false
    }

    private let state = Mutex(State())

    func set(_ continuation: CheckedContinuation<T, any Error>) {
        let resumeNow: Result<T, any Error>? = state.withLock { state in
            if let early = state.early {
                state.done = true
                return early
            }
            state.continuation = continuation
            return nil
        }
        if let resumeNow { continuation.resume(with: resumeNow) }
    }

    func resume(with result: Result<T, any Error>) {
        let target: CheckedContinuation<T, any Error>? = state.withLock { state in
            guard !state.done else { return nil }
            guard let continuation = state.continuation else {
                // Cancelled before the continuation exists: remember the outcome.
                if state.early == nil { state.early = result }
                return nil
            }
            state.done = true
            state.continuation = nil
            return continuation
        }
        target?.resume(with: result)
    }
}
