import Foundation
import Testing
import VirtHostAPI
@testable import VirtHostServer

/// The event log on its own: numbering, replay, gaps, filters, slow readers.
@Suite struct EventHubTests {
    @Test func sequencesOnlyGrowAndReplayResumesWithoutLoss() async {
        let hub = EventHub(capacity: 100)
        for i in 1...10 { hub.publish(kind: .domain, type: "started", name: "vm\(i)") }
        let subscription = hub.subscribe(filter: .init(), since: 4, sinceEpoch: hub.epoch)
        #expect(subscription.replay.map(\.sequence) == Array(5...10))
        #expect(subscription.replay.allSatisfy { $0.epoch == hub.epoch })
        hub.publish(kind: .network, type: "started", name: "net")
        var iterator = subscription.events.makeAsyncIterator()
        let live = await iterator.next()
        #expect(live?.sequence == 11)
        subscription.cancel()
        #expect(hub.watcherCount == 0)
    }

    @Test func tooOldASequenceGetsAGapFirst() {
        let hub = EventHub(capacity: 5)
        for _ in 1...20 { hub.publish(kind: .pool, type: "started", name: "p") }
        let subscription = hub.subscribe(filter: .init(), since: 3)
        let first = subscription.replay.first
        #expect(first?.type == "gap")
        #expect(first?.kind == .system)
        #expect(first?.gapFrom == 4)
        #expect(first?.sequence == 15)  // just before the oldest buffered (16)
        #expect(subscription.replay.dropFirst().map(\.sequence) == Array(16...20))
        subscription.cancel()
    }

    @Test func anotherEpochMeansTheAgentRestarted() {
        let hub = EventHub()
        hub.publish(kind: .domain, type: "defined", name: "a")
        let subscription = hub.subscribe(filter: .init(), since: 500, sinceEpoch: 12345)
        #expect(subscription.replay.first?.type == "gap")
        #expect(subscription.replay.first?.detail.contains("restarted") == true)
        #expect(subscription.replay.last?.name == "a")
        subscription.cancel()
    }

    @Test func filtersByKindAndNameButAlwaysPassSystemEvents() async {
        let hub = EventHub()
        let subscription = hub.subscribe(filter: .init(kinds: [.network], name: "net-a"))
        hub.publish(kind: .domain, type: "started", name: "net-a")
        hub.publish(kind: .network, type: "started", name: "net-b")
        hub.publish(kind: .system, type: "libvirt-disconnected")
        hub.publish(kind: .network, type: "stopped", name: "net-a")
        var iterator = subscription.events.makeAsyncIterator()
        #expect(await iterator.next()?.type == "libvirt-disconnected")
        let match = await iterator.next()
        #expect(match?.name == "net-a")
        #expect(match?.type == "stopped")
        subscription.cancel()
    }

    @Test func aSlowReaderLosesTheOverflowWithAGapAndSlowsNoOne() async {
        let hub = EventHub(capacity: 1_000, watcherQueue: 10)
        let slow = hub.subscribe(filter: .init())
        let fast = hub.subscribe(filter: .init())
        var fastIterator = fast.events.makeAsyncIterator()
        // Publishing 50 events returns at once although nobody reads `slow`.
        for i in 1...50 {
            hub.publish(kind: .domain, type: "started", name: "vm\(i)")
            #expect(await fastIterator.next()?.sequence == UInt64(i))
        }
        var seen: [UInt64] = []
        var slowIterator = slow.events.makeAsyncIterator()
        for _ in 0..<10 { if let e = await slowIterator.next() { seen.append(e.sequence) } }
        #expect(seen == Array(1...10))
        hub.publish(kind: .domain, type: "stopped", name: "vm")
        let next = await slowIterator.next()!
        #expect(next.sequence == 51)
        let gap = slow.gap(before: next)
        #expect(gap?.type == "gap")
        #expect(gap?.gapFrom == 11)
        #expect(gap?.sequence == 50)
        #expect(gap?.detail.hasPrefix("40 events dropped") == true)
        #expect(slow.gap(before: next) == nil)  // reported once
        slow.cancel()
        fast.cancel()
    }

    @Test func lifecycleWords() {
        #expect(LifecycleWords.domain(2, 0) == ("started", "booted"))
        #expect(LifecycleWords.domain(5, 1) == ("stopped", "destroyed"))
        #expect(LifecycleWords.network(3) == "stopped")
        #expect(LifecycleWords.pool(4) == "created")
    }
}
