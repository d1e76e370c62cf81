import Foundation
import Histogram
import Synchronization

/// One measured operation: blocking (run on its own OS threads) or async (run as tasks).
enum Body: Sendable {
    case sync(@Sendable () throws -> Void)
    case async(@Sendable () async throws -> Void)
}

/// What one measurement yields.
struct Sample: Sendable {
    var histogram: Histogram<UInt64>
    var calls: Int
    var seconds: Double
    /// CPU of this process (and its children, for virsh) per call, in ns.
    var clientCPU: Double
    /// CPU of the server processes per call, in ns (nil when there is none).
    var serverCPU: Double?

    var throughput: Double { Double(calls) / seconds }
}

func nowNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// CPU time of this process plus its waited-for children, in ns.
func processCPU() -> UInt64 {
    func ns(_ who: Int32) -> UInt64 {
        var usage = rusage()
        getrusage(__rusage_who_t(who), &usage)
        let t = [usage.ru_utime, usage.ru_stime]
        return t.reduce(0) { $0 + UInt64($1.tv_sec) * 1_000_000_000 + UInt64($1.tv_usec) * 1000 }
    }
    return ns(RUSAGE_SELF.rawValue) + ns(RUSAGE_CHILDREN.rawValue)
}

/// utime+stime of another process from /proc/PID/stat, in ns (clock-tick resolution).
func otherProcessCPU(_ pid: Int32) -> UInt64? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let u = UInt64(fields[11]), let s = UInt64(fields[12]) else { return nil }
    return (u + s) * 1_000_000_000 / UInt64(sysconf(Int32(_SC_CLK_TCK)))
}

/// VmRSS of a process in KiB.
func residentKiB(_ pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
    return nil
}

func newHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
}

/// Hands out call numbers to the workers until `total` are taken.
final class Tickets: Sendable {
    let taken = Atomic<Int>(0)
    let total: Int
    init(_ total: Int) { self.total = total }
    func take() -> Bool { taken.wrappingAdd(1, ordering: .relaxed).oldValue < total }
}

final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var histogram = newHistogram()
    private var error: (any Error)?
    func add(_ h: Histogram<UInt64>, _ e: (any Error)?) {
        lock.withLock {
            histogram.add(h)
            if error == nil { error = e }
        }
    }
    func result() throws -> Histogram<UInt64> {
        try lock.withLock {
            if let error { throw error }
            return histogram
        }
    }
}

/// Runs `calls` calls of `body` spread over `workers` callers and measures them.
/// `servers` are the pids whose CPU counts as server side.
func measure(_ body: Body, calls: Int, workers: Int, servers: [Int32]) async throws -> Sample {
    let workers = max(1, min(workers, calls))
    let tickets = Tickets(calls)
    let collected = Collected()
    let cpu0 = processCPU()
    let server0 = servers.compactMap(otherProcessCPU)
    let t0 = nowNanos()
    switch body {
    case .sync(let call):
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let box = Countdown(workers) { done.resume() }
            for _ in 0..<workers {
                let thread = Thread {
                    var h = newHistogram()
                    var failure: (any Error)?
                    while tickets.take() {
                        let s = nowNanos()
                        do { try call() } catch { failure = error; break }
                        _ = h.record(nowNanos() - s)
                    }
                    collected.add(h, failure)
                    box.finish()
                }
                thread.stackSize = 1 << 20
                thread.start()
            }
        }
    case .async(let call):
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var h = newHistogram()
                    var failure: (any Error)?
                    while tickets.take() {
                        let s = nowNanos()
                        do { try await call() } catch { failure = error; break }
                        _ = h.record(nowNanos() - s)
                    }
                    collected.add(h, failure)
                }
            }
        }
    }
    let t1 = nowNanos()
    let cpu1 = processCPU()
    let server1 = servers.compactMap(otherProcessCPU)
    let histogram = try collected.result()
    let n = Double(calls)
    var serverCPU: Double?
    if !servers.isEmpty, server0.count == server1.count {
        serverCPU = Double(zip(server1, server0).reduce(0) { $0 + $1.0 - $1.1 }) / n
    }
    return Sample(
        histogram: histogram, calls: calls, seconds: Double(t1 - t0) / 1e9,
        clientCPU: Double(cpu1 - cpu0) / n, serverCPU: serverCPU)
}

final class Countdown: Sendable {
    let remaining: Atomic<Int>
    let then: @Sendable () -> Void
    init(_ count: Int, then: @escaping @Sendable () -> Void) {
        remaining = Atomic(count)
        self.then = then
    }
    func finish() {
        if remaining.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue == 0 { then() }
    }
}
