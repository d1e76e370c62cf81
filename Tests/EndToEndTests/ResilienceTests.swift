import Foundation
import GRPCCore
import Libvirt
import Testing
import VirtHostClient

/// The guest ``ResilienceTests`` share: booted once for the frozen-machine and
/// silent-agent tests (a static of the suite cannot be named in its own
/// `@Suite` attribute).
let resilienceTestsGuest = SharedGuest()

/// The agent against a libvirtd or a QEMU that stops answering (SIGSTOP), a
/// libvirtd killed under calls, and a guest agent that does not answer: the
/// agent answers what it can at once, refuses what would wait, never lets one
/// machine take every libvirt thread, and serves again as soon as the other
/// side does. Figures (detect and recovery times, latencies) are printed.
///
/// Every process stopped here is continued in the test's cleanup, and by a
/// watchdog process after 30 s should this test process die first.
@Suite(
    .serialized, .sharedGuest(resilienceTestsGuest),
    .enabled(if: TestBed.shouldRun, "needs root, libvirtd and the test guest; make test sets them up"))
struct ResilienceTests {
    /// libvirtd stopped (SIGSTOP) three times with calls in flight: detected
    /// within seconds, new calls refused at once, health and version answered
    /// at once, and calls served again within moments of SIGCONT.
    @Test func frozenLibvirtdIsRiddenOut() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "frozen")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        let client = agent.client
        _ = try await client.listNetworks()
        let before = try await client.health()
        #expect(before.status == .serving)
        #expect(before.libvirtResponsive)
        #expect(before.libvirtSilentMs == 0)
        let events = EventsAndRestartTests.Collected()
        let watcher = Task {
            try await client.watchEvents(kinds: [.system], since: before.lastEventSequence, sinceEpoch: before.eventEpoch) {
                events.add($0)
            }
        }
        defer { watcher.cancel() }

        var detects: [Duration] = []
        var recoveries: [Duration] = []
        for cycle in 1...3 {
            let pid = try Self.libvirtdPID()
            let frozen = try Stopped(pid: pid, what: "libvirtd")
            defer { frozen.resume() }
            let stoppedAt = ContinuousClock.now

            // Calls that reach libvirtd before the agent knows it is frozen.
            let inFlight = Task {
                await withTaskGroup(of: Outcome.self) { group in
                    for _ in 0..<5 {
                        group.addTask { await Outcome.of { _ = try await Self.listNetworks(client, timeout: .seconds(30)) } }
                    }
                    return await group.reduce(into: [Outcome]()) { $0.append($1) }
                }
            }

            // The probe notices within its threshold (2 s) and interval (1 s).
            var health = try await client.health()
            while health.libvirtResponsive, ContinuousClock.now - stoppedAt < .seconds(10) {
                try await Task.sleep(for: .milliseconds(50))
                health = try await client.health()
            }
            let detect = ContinuousClock.now - stoppedAt
            detects.append(detect)
            #expect(!health.libvirtResponsive, "cycle \(cycle): still responsive after \(AgentBed.ms(detect))")
            #expect(detect < .seconds(5), "cycle \(cycle): detected after \(AgentBed.ms(detect))")
            #expect(health.status == .notServing)
            #expect(health.libvirtSilentMs > 0)

            // A new call is refused at once instead of queueing behind the stuck ones.
            var started = ContinuousClock.now
            let refused = await AgentBed.error { _ = try await Self.listNetworks(client, timeout: .seconds(30)) }
            let refusedAfter = ContinuousClock.now - started
            #expect(refused?.code == .unavailable, "cycle \(cycle): \(String(describing: refused))")
            #expect(refused?.message.contains("has not answered") == true, "cycle \(cycle): \(String(describing: refused))")
            #expect(refusedAfter < .seconds(1), "cycle \(cycle): refused after \(AgentBed.ms(refusedAfter))")

            // Health and the agent's part of the version never wait on libvirtd.
            started = ContinuousClock.now
            let frozenHealth = try await client.health()
            let healthAfter = ContinuousClock.now - started
            started = ContinuousClock.now
            let version = try await client.version()
            let versionAfter = ContinuousClock.now - started
            #expect(healthAfter < .seconds(1), "GetHealth took \(AgentBed.ms(healthAfter))")
            #expect(versionAfter < .seconds(1), "GetVersion took \(AgentBed.ms(versionAfter))")
            #expect(frozenHealth.status == .notServing && !frozenHealth.libvirtResponsive)
            #expect(!version.agentVersion.isEmpty)
            #expect(!version.libvirtVersion.isEmpty)
            #expect(version.uri == TestBed.uri)
            #expect(version.daemonVersion.isEmpty, "daemon version \(version.daemonVersion) while libvirtd is stopped")

            if cycle == 1 {
                // The CLI says so too, and exits 1.
                let table = try AgentBed.cli(agent.socketPath, ["host", "health"])
                #expect(table.status == 1, "virthost host health exited \(table.status): \(table.stderr)")
                #expect(table.stdout.contains("not serving"), "\(table.stdout)")
                let json = try AgentBed.cli(agent.socketPath, ["host", "health", "--json"])
                #expect(json.status == 1)
                let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
                #expect(object?["status"] as? String == "STATUS_NOT_SERVING", "\(json.stdout)")
                #expect((object?["libvirtResponsive"] as? Bool ?? false) == false, "\(json.stdout)")
            }

            // libvirtd runs again: calls are served within moments.
            frozen.resume()
            let continuedAt = ContinuousClock.now
            var served = false
            while !served, ContinuousClock.now - continuedAt < .seconds(10) {
                served = (try? await Self.listNetworks(client, timeout: .seconds(5))) != nil
                if !served { try await Task.sleep(for: .milliseconds(20)) }
            }
            let recovery = ContinuousClock.now - continuedAt
            recoveries.append(recovery)
            #expect(served, "cycle \(cycle): no call succeeded within 10 s of SIGCONT")
            #expect(recovery < .seconds(3), "cycle \(cycle): served again after \(AgentBed.ms(recovery))")

            // The calls that were in flight end well before their deadline.
            let outcomes = await inFlight.value
            let stoppedFor = continuedAt - stoppedAt
            for outcome in outcomes {
                #expect(outcome.elapsed < stoppedFor + .seconds(5), "an in-flight call took \(AgentBed.ms(outcome.elapsed))")
                #expect(outcome.error == nil || outcome.error?.code == .unavailable, "\(String(describing: outcome.error))")
            }
            let after = try await client.health()
            #expect(after.status == .serving && after.libvirtResponsive && after.libvirtSilentMs == 0)
            #expect(
                await events.wait(timeout: 5) { events in
                    events.filter { $0.type == "libvirt-unresponsive" }.count == cycle
                        && events.filter { $0.type == "libvirt-responsive" }.count == cycle
                }, "cycle \(cycle): events \(events.all.map(\.type))")
            #expect(agent.process.isRunning, "virthostd died in cycle \(cycle)")
            print(
                "end-to-end: libvirtd frozen, cycle \(cycle): detected after \(AgentBed.ms(detect)); new call refused in "
                    + "\(AgentBed.ms(refusedAfter)); GetHealth \(AgentBed.ms(healthAfter)), GetVersion \(AgentBed.ms(versionAfter)); "
                    + "served \(AgentBed.ms(recovery)) after SIGCONT; in-flight calls: "
                    + "\(outcomes.filter { $0.error == nil }.count) answered, \(outcomes.filter { $0.error != nil }.count) failed, "
                    + "slowest \(AgentBed.ms(outcomes.map(\.elapsed).max() ?? .zero)); while frozen: "
                    + "\(frozenHealth.callsInFlight) calls in flight, \(frozenHealth.libvirtThreads) libvirt threads, "
                    + "\(frozenHealth.stuckThreads) stuck, \(frozenHealth.replacedThreads) replaced")
            try await Task.sleep(for: .milliseconds(500))
        }
        let systemEvents = events.all
        #expect(systemEvents.filter { $0.type == "libvirt-unresponsive" }.allSatisfy { $0.kind == .system })
        #expect(!systemEvents.contains { $0.type == "gap" })
        print(
            "end-to-end: libvirtd frozen 3 times: detect \(detects.map(AgentBed.ms).joined(separator: ", ")); "
                + "recovery \(recoveries.map(AgentBed.ms).joined(separator: ", "))")
        watcher.cancel()
        #expect(agent.process.isRunning)
        #expect(await agent.stop() == 0)
    }

    /// libvirtd killed (SIGKILL) while calls wait on it: every call ends
    /// (none hangs to its deadline), and after a restart the agent serves.
    @Test func killedLibvirtdWithCallsInFlight() async throws {
        try TestBed.requireAvailable()
        // A shared guest booted by an earlier test holds a libvirt connection
        // that does not outlive libvirtd: let it go now.
        resilienceTestsGuest.discard()
        let script = TestBed.repoRoot.appendingPathComponent("scripts/start-libvirtd.sh").path
        // Whatever fails below, libvirtd runs again afterwards.
        defer { if !EventsAndRestartTests.libvirtdRuns() { _ = try? EventsAndRestartTests.run("/bin/bash", [script]) } }

        let agent = try AgentProcess(name: "killed")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        let client = agent.client
        _ = try await client.listNetworks()
        let pid = try Self.libvirtdPID()

        // Calls truly in flight when libvirtd dies: it holds them unanswered
        // (stopped, for less than the probe's 2 s) when it is killed.
        let frozen = try Stopped(pid: pid, what: "libvirtd")
        defer { frozen.resume() }
        let calls = Task {
            await withTaskGroup(of: (Duration, Outcome).self) { group in
                for index in 0..<8 {
                    let deadline: Duration = index < 6 ? .seconds(30) : .seconds(10)
                    group.addTask {
                        let outcome = await Outcome.of {
                            if index % 2 == 0 {
                                _ = try await Self.listNetworks(client, timeout: deadline)
                            } else {
                                _ = try await client.call { try await client.domains.listDomains(.init(), options: .within(deadline)) }
                            }
                        }
                        return (deadline, outcome)
                    }
                }
                return await group.reduce(into: [(Duration, Outcome)]()) { $0.append($1) }
            }
        }
        try await Task.sleep(for: .milliseconds(700))
        #expect(kill(pid, SIGKILL) == 0)
        let killedAt = ContinuousClock.now
        frozen.resume()  // ends the watchdog before a new libvirtd could get this pid
        let outcomes = await calls.value
        let ended = ContinuousClock.now - killedAt
        for (deadline, outcome) in outcomes {
            #expect(outcome.error != nil, "a call succeeded with libvirtd killed")
            if let error = outcome.error {
                #expect(Self.endedAsExpected(error), "\(error)")
            }
            #expect(outcome.elapsed < deadline + .seconds(1), "a call took \(AgentBed.ms(outcome.elapsed)) (deadline \(deadline))")
        }
        // Dead, not hung: the calls end with the daemon, not at their deadline.
        #expect(ended < .seconds(5), "the in-flight calls ended \(AgentBed.ms(ended)) after SIGKILL")
        let started = ContinuousClock.now
        let refused = await AgentBed.error { _ = try await Self.listNetworks(client, timeout: .seconds(10)) }
        let refusedAfter = ContinuousClock.now - started
        #expect(refused?.code == .unavailable, "\(String(describing: refused))")
        #expect(refusedAfter < .seconds(1), "a new call failed after \(AgentBed.ms(refusedAfter))")
        let down = try await client.health()
        #expect(down.status == .notServing)

        // Start it again as libvirtdRestartIsSurvived does, once the old one is gone.
        try await Self.waitGone(pid)
        let gone = ContinuousClock.now - killedAt
        #expect(try EventsAndRestartTests.run("/bin/bash", [script]) == 0)
        let upAt = ContinuousClock.now
        var served = false
        while !served, ContinuousClock.now - upAt < .seconds(10) {
            served = (try? await Self.listNetworks(client, timeout: .seconds(5))) != nil
            if !served { try await Task.sleep(for: .milliseconds(100)) }
        }
        let recovery = ContinuousClock.now - upAt
        #expect(served && recovery < .seconds(5), "served again: \(served), after \(AgentBed.ms(recovery))")
        // Health agrees with what was just served.
        let servedAt = ContinuousClock.now
        let first = try await client.health()
        var up = first
        while up.status != .serving, ContinuousClock.now - servedAt < .seconds(5) {
            try await Task.sleep(for: .milliseconds(20))
            up = try await client.health()
        }
        let healthLag = ContinuousClock.now - servedAt
        #expect(
            first.status == .serving,
            "GetHealth said \(first.status) (\(first.detail)) right after a call was served; SERVING \(AgentBed.ms(healthLag)) later")
        #expect(up.status == .serving)
        #expect(up.libvirtConnected && up.libvirtResponsive)
        #expect(up.reconnects >= 1)
        #expect(agent.process.isRunning)
        print(
            "end-to-end: libvirtd killed with \(outcomes.count) calls in flight: all ended \(AgentBed.ms(ended)) after SIGKILL ("
                + outcomes.map { $0.1.error?.codeName ?? "OK" }.joined(separator: ",")
                + "); new call refused in \(AgentBed.ms(refusedAfter)); old libvirtd gone \(AgentBed.ms(gone)) after SIGKILL; served \(AgentBed.ms(recovery)) after libvirtd answered, GetHealth SERVING \(AgentBed.ms(healthLag)) after that; "
                + "threads \(up.libvirtThreads), stuck \(up.stuckThreads), replaced \(up.replacedThreads)")
        #expect(await agent.stop() == 0)
    }

    /// A guest whose QEMU is stopped (SIGSTOP) under 20 calls that need it:
    /// calls about the host and about other machines keep their latency.
    @Test func aFrozenMachineDoesNotSlowTheOthers() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "frozen-vm")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        let client = agent.client
        // Another machine, defined and not running.
        let other = "\(TestBed.prefix)idle"
        _ = try await client.defineDomain(xml: """
            <domain type='qemu'>
              <name>\(other)</name>
              <memory unit='MiB'>64</memory>
              <os><type arch='x86_64' machine='pc'>hvm</type></os>
            </domain>
            """)
        defer { try? Connection.open(TestBed.uri).lookupDomain(name: other).undefine() }

        try await resilienceTestsGuest.lend(client) { guest in
            let qemuPID = try Self.pid(at: "/run/libvirt/qemu/\(guest.name).pid", command: "qemu-system-x86")
            let networksBefore = try await Self.timed(20) { _ = try await client.listNetworks() }
            let otherBefore = try await Self.timed(20) { _ = try await client.domain(other) }

            let frozen = try Stopped(pid: qemuPID, what: "QEMU of \(guest.name)")
            defer { frozen.resume() }
            let frozenAt = ContinuousClock.now
            // 20 live NIC detaches: each needs the domain's job and QEMU's monitor.
            let storm = Task {
                await withTaskGroup(of: Outcome.self) { group in
                    for _ in 0..<20 {
                        group.addTask {
                            await Outcome.of {
                                _ = try await client.detachInterface(domain: guest.name, mac: guest.mac, scope: .live, timeout: .seconds(40))
                            }
                        }
                    }
                    return await group.reduce(into: [Outcome]()) { $0.append($1) }
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            let during = try await client.health()
            let measuring = ContinuousClock.now
            let networksDuring = try await Self.timed(20) { _ = try await client.listNetworks() }
            let otherDuring = try await Self.timed(20) { _ = try await client.domain(other) }
            let measured = ContinuousClock.now - measuring
            let duringAfter = try await client.health()
            frozen.resume()
            let frozenFor = ContinuousClock.now - frozenAt
            let outcomes = await storm.value
            let stormEnded = ContinuousClock.now - frozenAt

            let (nb, nd) = (AgentBed.median(networksBefore), AgentBed.median(networksDuring))
            let (ob, od) = (AgentBed.median(otherBefore), AgentBed.median(otherDuring))
            // Not one call waited for the frozen machine (a median hides a few that did).
            let each = "ListNetworks \(networksDuring.map(AgentBed.ms)), GetDomain(other) \(otherDuring.map(AgentBed.ms))"
            #expect(measured < .seconds(5), "40 calls about other things took \(AgentBed.ms(measured)) while QEMU was stopped: \(each)")
            #expect(nd <= nb * 2 + .milliseconds(20), "ListNetworks median \(AgentBed.ms(nd)) against \(AgentBed.ms(nb)) before")
            #expect(od <= ob * 2 + .milliseconds(20), "GetDomain(other) median \(AgentBed.ms(od)) against \(AgentBed.ms(ob)) before")
            // The machine holds at most its share (2 of 4) of the libvirt threads.
            #expect(during.callsInFlight <= 2 && duringAfter.callsInFlight <= 2, "\(during.callsInFlight), \(duringAfter.callsInFlight) calls in flight")
            #expect(during.status == .serving)
            for outcome in outcomes {
                #expect(outcome.elapsed < .seconds(41), "a detach took \(AgentBed.ms(outcome.elapsed))")
            }
            #expect(stormEnded < .seconds(41))
            // The freeze did hold them: some detach waited for QEMU until SIGCONT.
            let slowest = outcomes.map(\.elapsed).max() ?? .zero
            #expect(slowest >= frozenFor - .milliseconds(600), "the slowest detach took \(AgentBed.ms(slowest)); QEMU was stopped for \(AgentBed.ms(frozenFor))")
            #expect(during.callsInFlight >= 1, "no call about the frozen machine was in libvirt")
            #expect(agent.process.isRunning)
            let codes = Dictionary(grouping: outcomes, by: { $0.error?.codeName ?? "OK" }).mapValues(\.count)
            print(
                "end-to-end: QEMU of \(guest.name) stopped for \(AgentBed.ms(frozenFor)) under 20 NIC detaches: "
                    + "ListNetworks median \(AgentBed.ms(nb)) before, \(AgentBed.ms(nd)) during; "
                    + "GetDomain(other) median \(AgentBed.ms(ob)) before, \(AgentBed.ms(od)) during; slowest during "
                    + "\(AgentBed.ms((networksDuring + otherDuring).max() ?? .zero)), all 40 in \(AgentBed.ms(measured)); "
                    + "calls in flight during \(during.callsInFlight)/\(duringAfter.callsInFlight) of \(during.libvirtThreads) threads; "
                    + "detaches ended \(AgentBed.ms(stormEnded)) after SIGSTOP: \(codes.sorted { $0.key < $1.key })")
        }
        #expect(await agent.stop() == 0)
    }

    /// qemu-ga stopped inside the guest under 50 pings: they end at their
    /// deadline, and calls about the host keep their latency meanwhile.
    @Test func aSilentGuestAgentDoesNotSlowTheOthers() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "silent-ga")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        let client = agent.client
        // Last on the shared guest: its qemu-ga is stopped for a while.
        try await resilienceTestsGuest.lend(client, last: true) { guest in
            let before = try await Self.timed(20) { _ = try await client.listNetworks() }
            try await guest.shell(
                client, #"(sleep 1; kill -STOP $(pidof qemu-ga); sleep 10; kill -CONT $(pidof qemu-ga)) >/dev/null 2>&1 &"#)
            try await Task.sleep(for: .seconds(2))

            let pings = Task {
                await withTaskGroup(of: Outcome.self) { group in
                    for _ in 0..<50 {
                        group.addTask { await Outcome.of { _ = try await client.pingAgent(domain: guest.name, timeout: .seconds(3)) } }
                    }
                    return await group.reduce(into: [Outcome]()) { $0.append($1) }
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            let during = try await Self.timed(20) { _ = try await client.listNetworks() }
            let health = try await client.health()
            let outcomes = await pings.value

            let (b, d) = (AgentBed.median(before), AgentBed.median(during))
            #expect(d <= b * 2 + .milliseconds(20), "ListNetworks median \(AgentBed.ms(d)) against \(AgentBed.ms(b)) before")
            for outcome in outcomes {
                #expect(
                    outcome.error.map(Self.endedAsExpected) == true,
                    "a ping to a stopped qemu-ga: \(String(describing: outcome.error))")
                #expect(outcome.elapsed < .seconds(4), "a ping took \(AgentBed.ms(outcome.elapsed))")
            }
            #expect(health.status == .serving)
            #expect(agent.process.isRunning)
            let codes = Dictionary(grouping: outcomes, by: { $0.error?.codeName ?? "OK" }).mapValues(\.count)
            print(
                "end-to-end: qemu-ga stopped under 50 pings (3 s deadline): ListNetworks median \(AgentBed.ms(b)) before, "
                    + "\(AgentBed.ms(d)) during; pings \(codes.sorted { $0.key < $1.key }), slowest "
                    + "\(AgentBed.ms(outcomes.map(\.elapsed).max() ?? .zero)); calls in flight during \(health.callsInFlight)")
        }
        #expect(await agent.stop() == 0)
    }
}

// MARK: - Helpers

extension ResilienceTests {
    /// How one call ended and how long it took.
    struct Outcome: Sendable {
        let elapsed: Duration
        let error: VirtHostError?

        static func of(_ body: @Sendable () async throws -> Void) async -> Outcome {
            let start = ContinuousClock.now
            do {
                try await body()
                return Outcome(elapsed: .now - start, error: nil)
            } catch let error as VirtHostError {
                return Outcome(elapsed: .now - start, error: error)
            } catch {
                return Outcome(elapsed: .now - start, error: VirtHostError(code: .unknown, message: "\(error)"))
            }
        }
    }

    /// Whether a call that could not be served ended as it should: refused
    /// (UNAVAILABLE) or given up at its deadline.
    static func endedAsExpected(_ error: VirtHostError) -> Bool {
        error.code == .unavailable || error.code == .deadlineExceeded
    }

    /// ListNetworks with a deadline.
    static func listNetworks(_ client: VirtHostClient, timeout: Duration) async throws -> [Virthost_V1_Network] {
        try await client.call { try await client.networks.listNetworks(.init(), options: .within(timeout)).networks }
    }

    /// The durations of `count` calls of `body`, one after another.
    static func timed(_ count: Int, _ body: () async throws -> Void) async throws -> [Duration] {
        var durations: [Duration] = []
        for _ in 0..<count {
            let start = ContinuousClock.now
            try await body()
            durations.append(.now - start)
        }
        return durations
    }

    /// libvirtd's process, from its pid file.
    static func libvirtdPID() throws -> pid_t { try pid(at: "/run/libvirtd.pid", command: "libvirtd") }

    /// The process a pid file names, checked against its command name.
    static func pid(at file: String, command: String) throws -> pid_t {
        let text = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let pid = pid_t(text), pid > 1 else { throw TestBedError("\(file) holds no pid: \(text)") }
        let comm = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let comm, command.hasPrefix(comm) || comm.hasPrefix(command) else {
            throw TestBedError("pid \(pid) from \(file) is \(comm ?? "not running"), not \(command)")
        }
        return pid
    }

    /// Waits until a killed process is gone from the process table; returns
    /// how long that took. (A zombie is not enough: its leader turns zombie
    /// while other threads still hold its files, and `pgrep -x libvirtd` in
    /// scripts/start-libvirtd.sh still sees it and then starts nothing.)
    @discardableResult
    static func waitGone(_ pid: pid_t, timeout: Duration = .seconds(30)) async throws -> Duration {
        let start = ContinuousClock.now
        while kill(pid, 0) == 0 || errno != ESRCH {
            guard ContinuousClock.now - start < timeout else {
                let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
                throw TestBedError("process \(pid) still there \(AgentBed.ms(timeout)) after SIGKILL: \(stat.prefix(80))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return ContinuousClock.now - start
    }
}

extension CallOptions {
    /// Default options with a deadline.
    fileprivate static func within(_ timeout: Duration) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        return options
    }
}

/// A process stopped with SIGSTOP until ``resume()`` (called by the test's
/// cleanup, and safe to call twice). A watchdog shell continues it after
/// `limit` seconds even if this test process dies first; ``resume()`` ends
/// that watchdog.
final class Stopped: @unchecked Sendable {
    let pid: pid_t
    let what: String
    private let lock = NSLock()
    private var watchdog: pid_t = 0
    private var resumed = false

    init(pid: pid_t, what: String, limit: Int = 30) throws {
        self.pid = pid
        self.what = what
        var child: pid_t = 0
        let words: [String] = ["/bin/sh", "-c", "sleep \(limit); kill -CONT \(pid)"]
        let argv = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let spawned = posix_spawn(&child, "/bin/sh", nil, nil, argv, environ)
        guard spawned == 0 else { throw TestBedError("cannot start the watchdog: \(String(cString: strerror(spawned)))") }
        watchdog = child
        guard kill(pid, SIGSTOP) == 0 else {
            let reason = String(cString: strerror(errno))
            resume()
            throw TestBedError("cannot stop \(what) (pid \(pid)): \(reason)")
        }
    }

    /// SIGCONT, and the watchdog ended and reaped.
    func resume() {
        let dog = lock.withLock { () -> pid_t? in
            guard !resumed else { return nil }
            resumed = true
            return watchdog
        }
        guard let dog else { return }
        kill(pid, SIGCONT)
        if dog > 0 {
            kill(dog, SIGKILL)
            var status: Int32 = 0
            while waitpid(dog, &status, 0) < 0 && errno == EINTR {}
        }
    }

    deinit { resume() }
}
