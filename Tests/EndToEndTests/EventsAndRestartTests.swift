import Foundation
import Libvirt
import Testing
import VirtHostClient

/// Events from the real hypervisor, and an agent that survives libvirtd restarts.
@Suite(.serialized, .enabled(if: TestBed.shouldRun, "needs root, libvirtd and the test guest; make test sets them up"))
struct EventsAndRestartTests {
    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [Virthost_V1_Event] = []
        func add(_ event: Virthost_V1_Event) { lock.withLock { items.append(event) } }
        var all: [Virthost_V1_Event] { lock.withLock { items } }

        /// Waits until `predicate` holds; false on timeout.
        @discardableResult
        func wait(timeout: Double = 30, until predicate: ([Virthost_V1_Event]) -> Bool) async -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while !predicate(all) {
                if Date() > deadline { return false }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return true
        }
    }

    /// Runs a program to its end; its exit status.
    static func run(_ path: String, _ arguments: [String]) throws -> Int32 {
        var pid: pid_t = 0
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let spawned = posix_spawn(&pid, path, nil, nil, argv, environ)
        guard spawned == 0 else { throw TestBedError("cannot start \(path): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status >> 8) & 0xff
    }

    @Test func networkAndGuestEventsResumeWithoutLoss() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "events")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        let client = agent.client
        try await TestGuest.with { guest in
            let first = Collected()
            let now = try await client.health()
            let watcher = Task {
                try await client.watchEvents(
                    kinds: [.domain, .network, .agent], since: now.lastEventSequence, sinceEpoch: now.eventEpoch
                ) { first.add($0) }
            }

            // A network stopped and started again.
            let network = try guest.connection.lookupNetwork(name: guest.networkName)
            try network.stop()
            try network.start()
            #expect(await first.wait { events in
                events.filter { $0.name == guest.networkName }.map(\.type) == ["stopped", "started"]
            })

            // The guest started (its agent connects), then the watcher goes away.
            _ = try await client.defineDomain(xml: guest.domainXML)
            _ = try await client.startDomain(guest.name)
            #expect(await first.wait { $0.contains { $0.name == guest.name && $0.type == "started" } })
            watcher.cancel()
            let last = try #require(first.all.last)

            // While nobody watches: the guest agent connects, the guest is destroyed.
            try await guest.waitForAgent()
            _ = try await client.destroyDomain(guest.name)
            try await guest.waitForState(.shutoff)

            // Resuming from the last sequence seen replays exactly what was missed.
            let second = Collected()
            let resumed = Task {
                try await client.watchEvents(
                    kinds: [.domain, .network, .agent], since: last.sequence, sinceEpoch: last.epoch
                ) { second.add($0) }
            }
            #expect(await second.wait { $0.contains { $0.name == guest.name && $0.type == "stopped" } })
            resumed.cancel()
            let replayed = second.all.filter { $0.name == guest.name }
            #expect(replayed.first?.sequence == last.sequence + 1 || replayed.first.map { $0.sequence > last.sequence } == true)
            #expect(replayed.contains { $0.type == "agent-connected" })
            #expect(replayed.last?.type == "stopped")
            #expect(replayed.last?.detail == "destroyed")
            #expect(!second.all.contains { $0.type == "gap" })
            let sequences = second.all.map(\.sequence)
            #expect(sequences == sequences.sorted())
        }
        #expect(await agent.stop() == 0)
    }

    /// Whether a libvirtd process runs.
    static func libvirtdRuns() -> Bool { (try? run("/bin/sh", ["-c", "pgrep -x libvirtd >/dev/null"])) == 0 }

    /// Holds a connection whose close callback releases it: the pattern that
    /// used to deadlock libvirt's event-loop thread (the release ran inside
    /// libvirt's callback and waited for a lock libvirt held there).
    final class SelfReleasing: @unchecked Sendable {
        private let lock = NSLock()
        private var connection: Connection?
        private var reason: Connection.CloseReason?
        private init(_ connection: Connection) { self.connection = connection }

        /// Opens a connection only the returned holder references.
        static func open(_ uri: String) throws -> SelfReleasing {
            let connection = try Connection.open(uri)
            connection.setKeepAlive(interval: 5, count: 3)
            let holder = SelfReleasing(connection)
            try connection.onClose { holder.closed($0) }
            return holder
        }
        func closed(_ why: Connection.CloseReason) {
            let last = lock.withLock { () -> Connection? in
                reason = why
                defer { connection = nil }
                return connection
            }
            _ = last  // the last reference goes here, in the callback
        }
        var closeReason: Connection.CloseReason? { lock.withLock { reason } }
    }

    /// libvirtd killed (SIGKILL) during a stream of calls and started again:
    /// what an operator sees from the same agent, which is never restarted.
    @Test func libvirtdRestartIsSurvived() async throws {
        try TestBed.requireAvailable()
        let script = TestBed.repoRoot.appendingPathComponent("scripts/start-libvirtd.sh").path
        // Whatever fails below, libvirtd runs again afterwards: other tests
        // and other people's runs need it.
        defer { if !Self.libvirtdRuns() { _ = try? Self.run("/bin/bash", [script]) } }

        let agent = try AgentProcess(name: "restart")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        let client = agent.client
        let events = Collected()
        let streamEnded = Collected()
        let now = try await client.health()
        #expect(now.status == .serving && now.libvirtConnected)
        let watcher = Task {
            defer { streamEnded.add(Virthost_V1_Event()) }
            try await client.watchEvents(since: now.lastEventSequence, sinceEpoch: now.eventEpoch) { events.add($0) }
        }
        defer { watcher.cancel() }

        // This process's own binding is cut off too: a connection released
        // from inside its close callback.
        let holder = try SelfReleasing.open(TestBed.uri)
        try await killAndRestart(client: client, script: script)
        #expect(holder.closeReason != nil, "the close callback did not run")

        // Events flow again on the same watch stream, both in the agent and
        // in this process's libvirt event loop (which the release inside the
        // close callback used to wedge).
        #expect(await events.wait { $0.contains { $0.type == "libvirt-disconnected" } })
        #expect(await events.wait { $0.contains { $0.type == "libvirt-reconnected" } })
        let seen = Collected()
        let fresh = try Connection.open(TestBed.uri)
        let subscription = try fresh.subscribeEvents { event in
            if case .networkLifecycle(let name, _, _, _) = event {
                var e = Virthost_V1_Event()
                e.name = name
                seen.add(e)
            }
        }
        defer { subscription.cancel() }
        try await TestGuest.with { guest in
            #expect(
                await events.wait(timeout: 15) { $0.contains { $0.name == guest.networkName && $0.type == "started" } },
                "the agent's watch stream got no event after the restart")
            #expect(
                await seen.wait(timeout: 15) { $0.contains { $0.name == guest.networkName } },
                "this process's libvirt event loop delivered nothing after the restart")
        }
        #expect(streamEnded.all.isEmpty, "the watch stream ended; watchers should not need to subscribe again")
        let sequences = events.all.map(\.sequence)
        #expect(sequences == sequences.sorted())
        watcher.cancel()
        #expect(await agent.stop() == 0)
    }

    /// Kills libvirtd under a stream of calls, checks the agent's answers
    /// while it is down, starts it again and checks the agent recovers.
    func killAndRestart(client: VirtHostClient, script: String) async throws {
        #expect(try Self.run("/usr/bin/pkill", ["-KILL", "-x", "libvirtd"]) == 0)
        var failures: [VirtHostError] = []
        var successes = 0
        let downSince = Date()
        while Date().timeIntervalSince(downSince) < 3 {
            do {
                _ = try await client.listNetworks()
                successes += 1
            } catch let error as VirtHostError {
                failures.append(error)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(successes == 0, "\(successes) calls succeeded while libvirtd was dead")
        #expect(failures.count >= 10, "only \(failures.count) calls answered in 3 s")
        #expect(failures.allSatisfy { $0.code == .unavailable }, "\(failures.map(\.description).prefix(3))")
        #expect(
            failures.allSatisfy {
                $0.message.contains("libvirt at \(TestBed.uri) is not reachable")
                    || $0.message.contains("connection to libvirt at \(TestBed.uri) was lost")
            }, "\(failures.map(\.message).prefix(3))")
        #expect(!failures.contains { $0.message.contains("cause is unknown") }, "\(failures.map(\.message).prefix(3))")
        let down = try await client.health()
        #expect(down.status == .notServing)
        #expect(!down.libvirtConnected)
        #expect(down.detail.contains("libvirt-sock") || down.detail.contains("closed"), "detail: \(down.detail)")

        // Back: calls succeed within a few seconds of libvirtd answering.
        #expect(try Self.run("/bin/bash", [script]) == 0)
        let upSince = Date()
        var served = false
        while !served && Date().timeIntervalSince(upSince) < 10 {
            served = (try? await client.listNetworks()) != nil
            if !served { try await Task.sleep(for: .milliseconds(100)) }
        }
        let recovery = Date().timeIntervalSince(upSince)
        print("libvirtd restart: \(failures.count) calls answered UNAVAILABLE while down; served again \(String(format: "%.3f", recovery)) s after libvirtd answered")
        #expect(served && recovery < 5, "calls did not succeed within 5 s of libvirtd's return (\(recovery) s)")
        let up = try await client.health()
        #expect(up.status == .serving)
        #expect(up.libvirtConnected)
        #expect(up.reconnects >= 1)
        #expect(up.detail == "connected")
    }
}
