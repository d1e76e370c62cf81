import GRPCCore
import Testing

@testable import VirtHostServer

/// The per-machine limit every domain call passes (half the libvirt threads
/// by default): a machine stuck in libvirt keeps only its share of threads.
@Suite struct KeyedGateTests {
    @Test func aKeyGetsItsShareAndOtherKeysGoOn() async throws {
        let gate = KeyedGate(perKey: 2, total: 100, what: "calls about the same machine")
        let release = Flag()
        // Three calls on the frozen machine: two hold, one waits.
        let frozen = (0..<3).map { _ in
            Task { try await gate.run(key: "frozen", until: nil) { try await waitUntil("release", timeout: .seconds(30)) { release.isSet } } }
        }
        try await waitUntil("two holders and one waiter") { gate.counts == (2, 1) }
        // Another machine is not held up.
        let other = try await gate.run(key: "other", until: nil) { 42 }
        #expect(other == 42)
        // The waiter on the frozen machine gives up at its deadline.
        let started = ContinuousClock.now
        await #expect(throws: RPCError.self) {
            try await gate.run(key: "frozen", until: .now + .milliseconds(100)) { }
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        release.set()
        for call in frozen { try await call.value }
        #expect(gate.counts == (0, 0))
    }

    @Test func deadlineMessagesSayWhatTheCallWaitedFor() async throws {
        let gate = KeyedGate(perKey: 1, total: 1, what: "calls about the same machine")
        let release = Flag()
        let holder = Task { try await gate.run(key: "m", until: nil) { try await waitUntil("release") { release.isSet } } }
        try await waitUntil("the holder") { gate.counts.running == 1 }
        do {
            try await gate.run(key: "m", until: .now + .milliseconds(50)) { }
            Issue.record("the second call did not wait")
        } catch let error as RPCError {
            #expect(error.code == .deadlineExceeded)
            #expect(error.message.contains("calls about the same machine"))
        }
        release.set()
        try await holder.value
    }
}
