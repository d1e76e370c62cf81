import Foundation
import Testing
import VirtHostClient

/// A long run against the real daemon binary: memory must stay flat.
@Suite struct SoakTests {
    static var binary: String {
        (ProcessInfo.processInfo.environment["VIRTHOST_BIN_DIR"] ?? DaemonHarness.repoRoot.appendingPathComponent(".build/debug").path)
            + "/virthostd"
    }

    static func rssKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
        }
        return 0
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: SoakTests.binary), "needs the virthostd binary (swift build)"))
    func rssStaysFlatAcross100000Calls() async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let socket = folder + "/soak.sock"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = [
            "--connect", DaemonHarness.demoURI, "--socket", socket, "--socket-mode", "0600", "--log-level", "warning",
            "--config", "/dev/null",
        ]
        try process.run()
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }
        for _ in 0..<300 where !FileManager.default.fileExists(atPath: socket) { try await Task.sleep(for: .milliseconds(50)) }

        let callers = 8
        let clients = try (0..<callers).map { _ in try VirtHostClient(socketPath: socket, wire: .grpc) }
        func calls(_ total: Int) async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in clients {
                    group.addTask {
                        for i in 0..<(total / callers) {
                            // A mix: the cheapest call, a list, a lookup that fails.
                            // VHSOAK_KIND=version|list|missing isolates one (for profiling).
                            let kind = ProcessInfo.processInfo.environment["VHSOAK_KIND"]
                            switch kind == "version" ? 0 : kind == "list" ? 1 : kind == "missing" ? 2 : i % 3 {
                            case 0: _ = try await client.version()
                            case 1: _ = try await client.listNetworks()
                            default: _ = try? await client.domain("no-such-vm")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        // Warm up: caches, thread pools, connection buffers reach their size.
        try await calls(10_000)
        let before = Self.rssKiB(process.processIdentifier)
        let started = ContinuousClock.now
        let total = Int(ProcessInfo.processInfo.environment["VHSOAK_CALLS"] ?? "") ?? 100_000
        try await calls(total)
        let elapsed = ContinuousClock.now - started
        let after = Self.rssKiB(process.processIdentifier)
        for client in clients { await client.shutdown() }
        print("soak: \(total) calls in \(elapsed), RSS \(before) KiB -> \(after) KiB")
        #expect(before > 0)
        #expect(Double(after) <= Double(before) * 1.10, "RSS grew from \(before) KiB to \(after) KiB")
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
