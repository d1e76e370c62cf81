import Foundation
import Synchronization
import Testing
@testable import Libvirt

/// The binding against libvirt's in-process test driver. Each test opens its
/// own `test:///FILE` connection: those have private state, unlike
/// `test:///default`, which the connections of one process share.
@Suite struct ConnectionTests {
    let connection: Connection

    init() throws {
        connection = try Connection.open(TestHost.uri)
    }

    @Test func reportsVersionsAndHostFacts() throws {
        #expect(try connection.libVersion() >= 9_000_000)
        #expect(try connection.hypervisorType() == "TEST")
        #expect(LibvirtRuntime.versionString(9_000_000) == "9.0.0")
        #expect(LibvirtRuntime.versionString(10_002_011) == "10.2.11")
        let node = try connection.nodeInfo()
        #expect(node.cpus == 8)
        #expect(node.memoryKiB == 33_554_432)
        #expect(try connection.capabilities().contains("<capabilities>"))
        #expect(connection.isAlive)
    }

    @Test func listsAndLooksUpDomains() throws {
        let names = try connection.listDomains().map(\.name)
        #expect(names == ["build-agent", "db-1", "web-1"])
        let web = try connection.lookupDomain(name: "web-1")
        #expect(try web.uuid() == "4dea22b3-1d52-d8f3-2516-782e98ab3f01")
        #expect(try connection.lookupDomain(uuid: "4dea22b3-1d52-d8f3-2516-782e98ab3f01").name == "web-1")
        let info = try web.info()
        #expect(info.state == .running)
        #expect(info.vcpus == 2)
        #expect(info.maxMemoryKiB == 2 * 1024 * 1024)
        #expect(web.id != nil)
        #expect(try web.xml().contains("<name>web-1</name>"))
    }

    @Test func missingObjectsCarryLibvirtCodes() throws {
        #expect(throws: LibvirtError.self) { try connection.lookupDomain(name: "no-such-machine") }
        do {
            _ = try connection.lookupDomain(name: "no-such-machine")
        } catch let error as LibvirtError {
            #expect(error.code == .noDomain)
            #expect(error.codeName == "VIR_ERR_NO_DOMAIN")
            #expect(!error.message.isEmpty)
        }
        do {
            _ = try connection.lookupNetwork(name: "no-such-net")
            Issue.record("lookup of a missing network succeeded")
        } catch let error as LibvirtError {
            #expect(error.code == .noNetwork)
        }
        do {
            _ = try connection.lookupStoragePool(name: "demo-images").lookupVolume(name: "missing.qcow2")
            Issue.record("lookup of a missing volume succeeded")
        } catch let error as LibvirtError {
            #expect(error.code == .noStorageVolume)
        }
    }

    @Test func domainLifecycle() throws {
        let xml = """
            <domain type='test'>
              <name>binding-lifecycle</name>
              <memory unit='MiB'>128</memory>
              <vcpu>1</vcpu>
              <os><type arch='x86_64'>hvm</type></os>
            </domain>
            """
        let domain = try connection.defineDomain(xml: xml)
        #expect(try domain.isPersistent())
        #expect(try domain.info().state == .shutoff)
        #expect(domain.id == nil)
        try domain.start()
        #expect(try domain.isActive())
        #expect(domain.id != nil)
        do {
            try domain.start()
            Issue.record("a second start succeeded")
        } catch let error as LibvirtError {
            #expect(!error.message.isEmpty)
        }
        try domain.destroy()
        #expect(try domain.state().state == .shutoff)
        try domain.undefine()
        #expect(throws: LibvirtError.self) { try connection.lookupDomain(name: "binding-lifecycle") }
    }

    @Test func networksPoolsAndVolumes() throws {
        let networks = try connection.listNetworks()
        #expect(networks.map(\.name) == ["demo-bridged", "demo-isolated", "demo-nat", "demo-routed"])
        let nat = try connection.lookupNetwork(name: "demo-nat")
        #expect(try nat.isActive())
        #expect(try nat.bridgeName() == "virbr-demo0")
        #expect(try nat.xml().contains("<forward mode='nat'"))

        let pools = try connection.listStoragePools(.active)
        #expect(pools.map(\.name) == ["demo-backups", "demo-images"])
        let images = try connection.lookupStoragePool(name: "demo-images")
        #expect(try images.info().state == .running)
        let volumes = try images.listVolumes()
        #expect(volumes.map(\.name) == ["db-1.qcow2", "debian-12.iso", "web-1.qcow2"])
        let web = try images.lookupVolume(name: "web-1.qcow2")
        #expect(try web.info().capacity == 20 << 30)
        #expect(try web.path() == "/var/lib/libvirt/images/web-1.qcow2")

        let volume = try images.createVolume(xml: """
            <volume><name>binding-new.raw</name><capacity unit='MiB'>16</capacity></volume>
            """)
        #expect(try volume.info().capacity == 16 << 20)
        try volume.delete()
        #expect(throws: LibvirtError.self) { try images.lookupVolume(name: "binding-new.raw") }
    }

    @Test func listFiltersSelectByState() throws {
        let domain = try connection.defineDomain(xml: """
            <domain type='test'><name>binding-filter</name><memory>65536</memory>
            <os><type>hvm</type></os></domain>
            """)
        defer { try? domain.undefine() }
        #expect(try connection.listDomains(.inactive).map(\.name) == ["binding-filter"])
        #expect(!(try connection.listDomains(.active).map(\.name)).contains("binding-filter"))
    }
}

/// A count jobs bump from their threads and tests poll.
final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

@Suite struct BlockingExecutorTests {
    @Test func runsJobsOffTheCallingThreadAndReturnsResults() async throws {
        let executor = BlockingExecutor(threads: 2, name: "test-exec")
        // The kernel's name of the thread (Foundation's Thread.current.name
        // came back as the pool thread's name in 1 run of 20 here).
        let name = try await executor.run {
            (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
        }
        #expect(name.hasPrefix("test-exec-"), "the job ran on '\(name)'")
        let sum = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<100 { group.addTask { try await executor.run { i } } }
            return try await group.reduce(0, +)
        }
        #expect(sum == 4950)
        executor.shutdown()
    }

    /// Waits (bounded) until `condition` holds.
    static func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw LibvirtError(code: .operationTimeout, domain: .none, message: what) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func aStuckThreadIsReplacedAndRetiresWhenItsCallReturns() async throws {
        let executor = BlockingExecutor(threads: 1, maximumThreads: 2, name: "test-stuck")
        defer { executor.shutdown() }
        // The test never blocks its own thread (the cooperative pool has few):
        // it polls what the jobs report.
        let release = DispatchSemaphore(value: 0)
        let started = Counter()
        // A call that blocks in "libvirt" and whose caller gives up.
        let caller = Task { try await executor.run { started.add(); release.wait() } }
        try await Self.eventually("the first call in libvirt") { started.value == 1 }
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
        try await Self.eventually("a replacement thread") { executor.statistics == .init(threads: 2, stuck: 1, replaced: 1, queued: 0) }
        // The replacement serves other calls meanwhile.
        #expect(try await executor.run { 42 } == 42)
        // At the ceiling, a second stuck call gets no third thread.
        let second = Task { try await executor.run { started.add(); release.wait() } }
        try await Self.eventually("the second call in libvirt") { started.value == 2 }
        second.cancel()
        _ = try? await second.value
        try await Self.eventually("two stuck, no third thread") { executor.statistics.stuck == 2 }
        #expect(executor.statistics.threads == 2)
        // Their calls return: one thread retires, one stays.
        release.signal()
        release.signal()
        try await Self.eventually("back to one thread") { executor.statistics == .init(threads: 1, stuck: 0, replaced: 1, queued: 0) }
        #expect(try await executor.run { 7 } == 7)
    }

    @Test func aCallGivenUpWhileQueuedNeverRuns() async throws {
        let executor = BlockingExecutor(threads: 1, maximumThreads: 1, name: "test-queued")
        defer { executor.shutdown() }
        let release = DispatchSemaphore(value: 0)
        let started = Counter()
        let ran = Mutex(false)
        let busy = Task { try await executor.run { started.add(); release.wait() } }
        try await Self.eventually("the first call in libvirt") { started.value == 1 }
        let queued = Task { try await executor.run { ran.withLock { $0 = true } } }
        try await Self.eventually("the second call is queued") { executor.statistics.queued == 1 }
        queued.cancel()
        await #expect(throws: CancellationError.self) { try await queued.value }
        release.signal()
        try await busy.value
        // The queue is drained (the given-up job was taken and skipped), and it never ran.
        #expect(try await executor.run { 1 } == 1)
        #expect(!ran.withLock { $0 })
    }

    @Test func propagatesErrors() async {
        let executor = BlockingExecutor(threads: 1)
        await #expect(throws: LibvirtError.self) {
            try await executor.run { throw LibvirtError(code: .invalidArg, domain: .none, message: "bad") }
        }
    }

    @Test func libvirtErrorsAreReadOnTheFailingThread() async throws {
        // Two threads fail at once with different errors; each must see its own.
        let executor = BlockingExecutor(threads: 2)
        let connection = try Connection.open(TestHost.uri)
        async let a: LibvirtError.Code? = executor.run {
            do { _ = try connection.lookupDomain(name: "missing"); return nil } catch let e as LibvirtError { return e.code }
        }
        async let b: LibvirtError.Code? = executor.run {
            do { _ = try connection.lookupNetwork(name: "missing"); return nil } catch let e as LibvirtError { return e.code }
        }
        #expect(try await a == .noDomain)
        #expect(try await b == .noNetwork)
    }
}

enum TestHost {
    /// The demo host of `make run`, loaded privately by the test driver.
    static var uri: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return "test://" + root.appendingPathComponent("packaging/demo/host.xml").path
    }
}
