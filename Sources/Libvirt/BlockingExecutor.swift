import CVirtHostSys
import Foundation
import Synchronization

/// A set of threads for blocking libvirt calls, which replaces a thread that
/// is stuck in a call nobody waits for any more.
///
/// libvirt calls block for a network round trip (or much longer), so they must
/// never run on Swift concurrency's cooperative pool or a NIO event loop. Each
/// job runs wholly on one thread, so libvirt's thread-local error is read where
/// it was set.
///
/// A call cannot be interrupted once it is in libvirt. When its caller gives
/// up (a deadline, a client that went away) the caller is answered at once and
/// the thread counts as stuck until libvirt returns; while fewer than
/// `threads` threads are free of stuck calls, a replacement starts, up to
/// `maximumThreads` in all (oVirt VDSM's executor does the same). A stuck
/// thread whose call finally returns retires if the others suffice. A job
/// whose caller gave up while it was still queued never reaches libvirt.
public final class BlockingExecutor: Sendable {
    /// Queued jobs from `head` on; taken slots are nil so their captures are
    /// released at once. A job returns true when its thread should retire.
    private struct Queue {
        var jobs: [(@Sendable () -> Bool)?] = []
        var head = 0
        var stopped = false
        /// Threads alive, and how many of them are stuck in a call whose caller gave up.
        var workers = 0
        var stuck = 0
        /// Threads started to replace stuck ones, since the start.
        var replaced = 0
        var nextIndex = 0
    }

    private let queue = Mutex(Queue())
    /// One signal per queued job (and per worker at shutdown): workers sleep
    /// in the kernel (a futex) while there is nothing to do.
    private let ready = DispatchSemaphore(value: 0)
    /// Threads that serve calls when none is stuck.
    public let threads: Int
    /// The most threads there may be, stuck ones included.
    public let maximumThreads: Int
    private let name: String

    /// Starts `threads` worker threads named `name-N`; up to `maximumThreads`
    /// (default four times as many) when threads are stuck.
    public init(threads: Int, maximumThreads: Int? = nil, name: String = "libvirt") {
        precondition(threads > 0, "BlockingExecutor needs at least one thread")
        self.threads = threads
        self.maximumThreads = max(threads, maximumThreads ?? threads * 4)
        self.name = name
        for _ in 0..<threads { startWorker(replacing: false) }
    }

    deinit { shutdown() }

    /// Lets the workers finish queued jobs and exit.
    public func shutdown() {
        let workers: Int? = queue.withLock { queue in
            defer { queue.stopped = true }
            return queue.stopped ? nil : queue.workers
        }
        for _ in 0..<(workers ?? 0) { ready.signal() }
    }

    /// What the executor is doing now, for health reports and metrics.
    public struct Statistics: Sendable, Equatable {
        /// Threads alive (stuck ones included).
        public var threads: Int
        /// Threads in a call whose caller gave up.
        public var stuck: Int
        /// Threads started to replace stuck ones since the start.
        public var replaced: Int
        /// Jobs waiting for a thread.
        public var queued: Int
    }

    public var statistics: Statistics {
        queue.withLock { Statistics(threads: $0.workers, stuck: $0.stuck, replaced: $0.replaced, queued: $0.jobs.count - $0.head) }
    }

    /// Runs `body` on a worker thread and returns its result to the caller.
    ///
    /// When the calling task is cancelled the caller gets `CancellationError`
    /// at once. A queued `body` then never runs; a running one cannot be
    /// interrupted, so it runs to its end on its thread (counted as stuck
    /// meanwhile) and its result is dropped.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let job = Job<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                job.set(continuation)
                submit { [self] in
                    guard job.begin() else { return false }
                    let result = Result { try body() }
                    return job.finish(with: result) ? stuckJobReturned() : false
                }
            }
        } onCancel: {
            if job.cancel() { jobGotStuck() }
        }
    }

    /// Runs `body` on a worker thread, for callers outside Swift concurrency
    /// (an event loop that must not block and must not wait on the
    /// cooperative pool either); `body` reports its result itself.
    public func execute(_ body: @escaping @Sendable () -> Void) {
        submit {
            body()
            return false
        }
    }

    private func submit(_ job: @escaping @Sendable () -> Bool) {
        queue.withLock { $0.jobs.append(job) }
        ready.signal()
    }

    private func startWorker(replacing: Bool) {
        let index = queue.withLock { queue in
            defer { queue.nextIndex += 1 }
            queue.workers += replacing ? 0 : 1
            return queue.nextIndex
        }
        // Named from inside, for the kernel (top -H, perf) and Foundation:
        // Foundation's setter alone sometimes left the kernel's name
        // inherited from the thread that started it.
        let name = "\(name)-\(index)"
        let thread = Thread { [self] in
            _ = virthost_set_thread_name(name)
            Thread.current.name = name
            self.work()
        }
        thread.start()
    }

    /// A running job's caller gave up: count its thread as stuck, and start
    /// a replacement while too few threads are free and the ceiling allows.
    private func jobGotStuck() {
        let replace = queue.withLock { queue -> Bool in
            queue.stuck += 1
            guard !queue.stopped, queue.workers - queue.stuck < threads, queue.workers < maximumThreads else { return false }
            queue.workers += 1
            queue.replaced += 1
            return true
        }
        if replace { startWorker(replacing: true) }
    }

    /// A stuck job returned on this thread: it retires when the others suffice.
    private func stuckJobReturned() -> Bool {
        queue.withLock { queue in
            queue.stuck -= 1
            guard queue.workers - queue.stuck > threads else { return false }
            queue.workers -= 1
            return true
        }
    }

    private func work() {
        while true {
            ready.wait()
            let next = queue.withLock { queue -> (@Sendable () -> Bool)?? in
                guard queue.head < queue.jobs.count else {
                    guard queue.stopped else { return .some(nil) }
                    queue.workers -= 1
                    return .none
                }
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
            if job?() == true {
                // Retired after a stuck call: its signal share goes with it.
                return
            }
        }
    }
}

/// One call's way through the executor: queued, running, then done; or
/// abandoned by its caller while queued (never runs) or while running
/// (runs to its end, its result dropped). The continuation is resumed once.
private final class Job<T: Sendable>: Sendable {
    private enum Phase {
        case queued, running, done, abandonedQueued, abandonedRunning
    }

    private struct State {
        var phase = Phase.queued
        var continuation: CheckedContinuation<T, any Error>?
        /// Cancelled before the continuation existed.
        var early: (any Error)?
    }

    private let state = Mutex(State())

    func set(_ continuation: CheckedContinuation<T, any Error>) {
        let early: (any Error)? = state.withLock { state in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(throwing: early) }
    }

    /// On the worker: whether to run the body (false when abandoned while queued).
    func begin() -> Bool {
        state.withLock { state in
            guard state.phase == .queued else { return false }
            state.phase = .running
            return true
        }
    }

    /// On the worker, after the body: answers the caller; true when the
    /// caller had given up while the body ran (the thread was stuck).
    func finish(with result: Result<T, any Error>) -> Bool {
        let (continuation, wasStuck): (CheckedContinuation<T, any Error>?, Bool) = state.withLock { state in
            defer { state.phase = .done }
            switch state.phase {
            case .running:
                defer { state.continuation = nil }
                return (state.continuation, false)
            case .abandonedRunning: return (nil, true)
            default: return (nil, false)
            }
        }
        continuation?.resume(with: result)
        return wasStuck
    }

    /// The caller gave up: answers it with CancellationError; true when the
    /// body is running now (its thread is stuck until libvirt returns).
    func cancel() -> Bool {
        let (continuation, stuck): (CheckedContinuation<T, any Error>?, Bool) = state.withLock { state in
            switch state.phase {
            case .queued, .running:
                let running = state.phase == .running
                state.phase = running ? .abandonedRunning : .abandonedQueued
                guard let continuation = state.continuation else {
                    state.early = CancellationError()
                    return (nil, running)
                }
                state.continuation = nil
                return (continuation, running)
            default:
                return (nil, false)
            }
        }
        continuation?.resume(throwing: CancellationError())
        return stuck
    }
}
