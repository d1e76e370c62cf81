import Libvirt
import NIOPosix

/// The hop from a Swift task to a thread that may block in libvirt and back:
/// the agent's BlockingExecutor against NIO's NIOThreadPool (its
/// `runIfActive`, async and cancellable), same thread count, same work, in
/// one run. `--executors` prints these rows alone.
func measureExecutors(_ connection: Connection, calls: Int, threads: Int = 4) async throws {
    let executor = BlockingExecutor(threads: threads, name: "bench-libvirt")
    let pool = NIOThreadPool(numberOfThreads: threads)
    pool.start()
    defer { executor.shutdown() }
    let work: [(String, @Sendable () throws -> Void)] = [
        ("empty job", {}),
        ("virConnectGetLibVersion", { _ = try connection.libVersion() }),
    ]
    print("executor hop (\(threads) threads, \(calls) calls; p50 of one caller, calls/s at 1 and 8 callers):")
    for (name, job) in work {
        for (label, body) in [
            ("BlockingExecutor", Body.async { try await executor.run(job) }),
            ("NIOThreadPool", Body.async { try await pool.runIfActive(job) }),
        ] {
            _ = try await measure(body, calls: max(1, calls / 10), workers: 1, servers: [])
            let one = try await measure(body, calls: calls, workers: 1, servers: [])
            let eight = try await measure(body, calls: calls, workers: 8, servers: [])
            print("  \(name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(label.padding(toLength: 17, withPad: " ", startingAt: 0))"
                + " p50 \(formatNanos(Double(one.histogram.valueAtPercentile(50)))), cpu/call \(formatNanos(one.clientCPU)),"
                + " \(Int(one.throughput)) calls/s (1), \(Int(eight.throughput)) calls/s (8)")
        }
    }
    try await pool.shutdownGracefully()
}
