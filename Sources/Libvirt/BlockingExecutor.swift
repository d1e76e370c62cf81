import CVirtHostSys
import Foundation

/// A fixed set of threads for blocking libvirt calls.
///
/// libvirt calls block for a network round trip (or much longer), so they must
/// never run on Swift concurrency's cooperative pool or a NIO event loop. Each
/// job runs wholly on one thread, so libvirt's thread-local error is read where
/// it was set.
public final class BlockingExecutor: @unchecked Sendable {
    private let condition = NSCondition()
    /// Queued jobs from `head` on; taken slots are nil so their captures are
    /// released at once.
    private var jobs: [(() -> Void)?] = []
    private var head = 0
    private var stopped = false

    /// Starts `threads` worker threads named `name-N`.
    public init(threads: Int, name: String = "libvirt") {
        precondition(threads > 0, "BlockingExecutor needs at least one thread")
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
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
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
    public func submit(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while head == jobs.count && !stopped { condition.wait() }
            if head == jobs.count {
                condition.unlock()
                return
            }
            let job = jobs[head]
            jobs[head] = nil
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 64 && head * 2 >= jobs.count {
                // Under steady load the queue may never drain: compact it.
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job?()
        }
    }
}

/// A continuation resumed by whichever comes first: the job or a cancellation.
private final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var early: Result<T, any Error>?
    private var done = false

    func set(_ continuation: CheckedContinuation<T, any Error>) {
        let resumeNow: Result<T, any Error>? = lock.withLock {
            if let early { done = true; return early }
            self.continuation = continuation
            return nil
        }
        if let resumeNow { continuation.resume(with: resumeNow) }
    }

    func resume(with result: Result<T, any Error>) {
        let target: CheckedContinuation<T, any Error>? = lock.withLock {
            guard !done else { return nil }
            guard let continuation else {
                // Cancelled before the continuation exists: remember the outcome.
                if early == nil { early = result }
                return nil
            }
            done = true
            self.continuation = nil
            return continuation
        }
        target?.resume(with: result)
    }
}
