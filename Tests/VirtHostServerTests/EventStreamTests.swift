import Foundation
import Testing
import VirtHostClient
@testable import VirtHostServer

/// libvirt's events through EventService.Watch over a real socket (test driver).
@Suite struct EventStreamTests {
    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [Virthost_V1_Event] = []
        func add(_ event: Virthost_V1_Event) { lock.withLock { items.append(event) } }
        var all: [Virthost_V1_Event] { lock.withLock { items } }

        func wait(until predicate: ([Virthost_V1_Event]) -> Bool, timeout: Double = 10) async throws {
            let deadline = Date().addingTimeInterval(timeout)
            while !predicate(all) {
                guard Date() < deadline else { return }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    @Test func domainAndNetworkLifecycleArriveInOrderAndResume() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let collected = Collected()
            // Start from the agent's current position: nothing after it is missed,
            // however late the watch call arrives.
            let now = try await client.health()
            let watcher = Task {
                try await client.watchEvents(
                    kinds: [.domain, .network], since: now.lastEventSequence, sinceEpoch: now.eventEpoch
                ) { collected.add($0) }
            }
            _ = try await client.defineDomain(xml: """
                <domain type='test'><name>ev-vm</name><memory>65536</memory><os><type>hvm</type></os></domain>
                """)
            _ = try await client.startDomain("ev-vm")
            _ = try await client.destroyDomain("ev-vm")
            try await collected.wait { $0.filter { $0.name == "ev-vm" }.count >= 3 }
            watcher.cancel()
            let vm = collected.all.filter { $0.name == "ev-vm" }
            #expect(vm.map(\.type) == ["defined", "started", "stopped"])
            #expect(vm.map(\.detail) == ["added", "booted", "destroyed"])
            #expect(vm.allSatisfy { $0.kind == .domain && !$0.uuid.isEmpty })
            let sequences = vm.map(\.sequence)
            #expect(sequences == sequences.sorted() && Set(sequences).count == 3)

            // Reconnect with the last sequence seen: what happened meanwhile is replayed.
            let last = try #require(vm.last)
            try await client.undefineDomain("ev-vm")
            let resumed = Collected()
            let second = Task {
                try await client.watchEvents(since: last.sequence, sinceEpoch: last.epoch) { resumed.add($0) }
            }
            try await resumed.wait { $0.contains { $0.type == "undefined" } }
            second.cancel()
            let replayed = resumed.all
            #expect(replayed.first?.type == "undefined")
            #expect(replayed.first?.sequence == last.sequence + 1)
        }
    }

    @Test func nameFilterAndBadKinds() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let collected = Collected()
            let now = try await client.health()
            let watcher = Task {
                try await client.watchEvents(name: "ev-two", since: now.lastEventSequence, sinceEpoch: now.eventEpoch) {
                    collected.add($0)
                }
            }
            for name in ["ev-one", "ev-two"] {
                _ = try await client.defineDomain(xml: """
                    <domain type='test'><name>\(name)</name><memory>65536</memory><os><type>hvm</type></os></domain>
                    """)
            }
            try await collected.wait { !$0.isEmpty }
            watcher.cancel()
            #expect(collected.all.map(\.name) == ["ev-two"])

            do {
                try await client.watchEvents(kinds: [.unspecified]) { _ in }
                Issue.record("an unknown kind was accepted")
            } catch let error as VirtHostError {
                #expect(error.code == .invalidArgument)
            }
        }
    }
}
