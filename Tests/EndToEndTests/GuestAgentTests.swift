import Foundation
import GRPCCore
import Libvirt
import Testing
import VirtHostClient

/// The guest the tests of ``GuestAgentTests`` share (a static of the suite
/// cannot be named in its own `@Suite` attribute).
let guestAgentTestsGuest = SharedGuest(disk: .rawExt4)

/// The guest-agent bridge against a real guest running qemu-ga 7.2, through a
/// real virthostd, checked against libvirt itself and the guest's own view.
/// The tests share one guest (with a raw ext4 disk), checked and reset between
/// them; the last one kills its qemu-ga, so the guest goes with it.
@Suite(
    .serialized, .sharedGuest(guestAgentTestsGuest),
    .enabled(if: TestBed.shouldRun, "needs root, libvirtd and the test guest; make test sets them up"))
struct GuestAgentTests {
    @Test func rawCommandsRoundTripAndPolicy() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "ga-raw")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await guestAgentTestsGuest.lend(agent.client) { guest in
            let client = agent.client
            let direct = try guest.connection.lookupDomain(name: guest.name)

            // guest-ping and guest-info: the reply is the agent's, unchanged.
            let ping = #"{"execute":"guest-ping"}"#
            #expect(try await client.agentCommand(domain: guest.name, json: ping) == #"{"return":{}}"#)
            #expect(try direct.agentCommand(ping) == #"{"return":{}}"#)
            let info = #"{"execute":"guest-info"}"#
            let viaAgent = try await client.agentCommand(domain: guest.name, json: info)
            let viaLibvirt = try direct.agentCommand(info)
            func commands(_ reply: String) throws -> (String, Set<String>) {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])
                let value = try #require(object["return"] as? [String: Any])
                let names = (value["supported_commands"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                return (value["version"] as? String ?? "", Set(names))
            }
            let (version, names) = try commands(viaAgent)
            #expect(version.hasPrefix("7.2"))
            #expect(try commands(viaLibvirt) == (version, names))
            #expect(names.isSuperset(of: ["guest-ping", "guest-exec", "guest-exec-status", "guest-fsfreeze-freeze"]))

            // The wait libvirt was given follows the deadline, rounded up; a
            // call without one has the agent's default deadline (120 s).
            let defaultWait = try await client.agentCommandResponse(domain: guest.name, json: ping)
            #expect(defaultWait.timeoutMode == .deadline && defaultWait.timeoutSeconds == 120)
            let libvirtDefault = try await client.agentCommandResponse(domain: guest.name, json: ping, mode: .default)
            #expect(libvirtDefault.timeoutMode == .default && libvirtDefault.timeoutSeconds == 0)
            let rounded = try await client.agentCommandResponse(domain: guest.name, json: ping, timeout: .milliseconds(2500))
            #expect(rounded.timeoutMode == .deadline && rounded.timeoutSeconds == 3)
            let blocking = try await client.agentCommandResponse(domain: guest.name, json: ping, mode: .block)
            #expect(blocking.timeoutMode == .block && blocking.reply == #"{"return":{}}"#)

            // Latency: through virthostd against libvirt directly.
            var through: [Duration] = []
            var straight: [Duration] = []
            var plain: [Duration] = []
            for _ in 0..<20 {
                let c = ContinuousClock.now
                _ = try await client.domain(guest.name)
                plain.append(.now - c)
                let a = ContinuousClock.now
                _ = try await client.agentCommand(domain: guest.name, json: ping, timeout: .seconds(5))
                through.append(.now - a)
                let b = ContinuousClock.now
                _ = try direct.agentCommand(ping, timeout: .seconds(5))
                straight.append(.now - b)
            }
            let typed = try await client.pingAgent(domain: guest.name)
            print("end-to-end: guest-ping median \(AgentBed.ms(AgentBed.median(through))) through virthostd, "
                + "\(AgentBed.ms(AgentBed.median(straight))) with libvirt directly; Ping's own libvirt time \(AgentBed.ms(typed)); "
                + "GetDomain through virthostd \(AgentBed.ms(AgentBed.median(plain)))")
            #expect(AgentBed.median(through) < .milliseconds(500))

            // The agent's error replies come back with class and description.
            let unknown = await AgentBed.error { _ = try await client.agentCommand(domain: guest.name, json: #"{"execute":"guest-nope"}"#) }
            #expect(unknown?.code == .unimplemented)
            #expect(unknown?.guestAgentError?.errorClass == "CommandNotFound")
            #expect(unknown?.guestAgentError?.desc == "The command guest-nope has not been found")
            let badPID = await AgentBed.error {
                _ = try await client.agentCommand(
                    domain: guest.name, json: #"{"execute":"guest-exec-status","arguments":{"pid":987654}}"#)
            }
            #expect(badPID?.code == .failedPrecondition)
            #expect(badPID?.guestAgentError?.errorClass == "GenericError")
            #expect(badPID?.guestAgentError?.desc == "Invalid parameter 'pid'")
            #expect(badPID?.libvirtCodeName == "VIR_ERR_INTERNAL_ERROR")

            // Malformed commands never reach the guest, whether it exists or not.
            let malformed = [
                "", "not json", "[]", #"[{"execute":"guest-ping"}]"#, "{}", #"{"execute":1}"#, #"{"execute":"guest-ping","arguments":[]}"#,
                #"{"execute":"guest-ping","execute":"guest-exec"}"#, #"{"execute":"guest-ping","x":1}"#,
                #"{"execute":"guest-ping","arguments":{"a":"\u0000"}}"#,
                #"{"execute":"guest-ping","arguments":{"v":"# + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}}",
                #"{"execute":"guest-ping","arguments":{"pad":""# + String(repeating: "x", count: 1 << 20) + #""}}"#,
            ]
            for json in malformed {
                for domain in [guest.name, "\(TestBed.prefix)no-such-domain"] {
                    let error = await AgentBed.error { _ = try await client.agentCommand(domain: domain, json: json) }
                    #expect(error?.code == .invalidArgument, "\(json.prefix(60)) for \(domain): \(String(describing: error))")
                }
            }
            // A well-formed one for a machine that does not exist is libvirt's NOT_FOUND.
            let missing = await AgentBed.error { _ = try await client.agentCommand(domain: "\(TestBed.prefix)no-such-domain", json: ping) }
            #expect(missing?.code == .notFound)

            // The CLI prints the reply like virsh qemu-agent-command --pretty.
            let cli = try AgentBed.cli(agent.socketPath, ["agent", "command", guest.name, ping])
            #expect(cli.status == 0)
            #expect(cli.stdout == "{\n  \"return\": {}\n}\n")

            // The command policy of a daemon started with flags.
            let strict = try FlaggedAgentProcess(
                name: "ga-policy", flags: ["--agent-deny", "guest-exec", "--agent-deny", "guest-file-*"])
            let denied = await AgentBed.error {
                _ = try await strict.client.agentCommand(domain: guest.name, json: #"{"execute":"guest-exec","arguments":{"path":"/bin/true"}}"#)
            }
            #expect(denied?.code == .permissionDenied)
            #expect(denied?.message.contains("rule 'guest-exec'") == true)
            let file = await AgentBed.error {
                _ = try await strict.client.agentCommand(domain: guest.name, json: #"{"execute":"guest-file-open","arguments":{"path":"/etc/hostname"}}"#)
            }
            #expect(file?.message.contains("rule 'guest-file-*'") == true)
            let typedExec = await AgentBed.error { _ = try await strict.client.exec(domain: guest.name, program: "/bin/true") }
            #expect(typedExec?.code == .permissionDenied)
            #expect(try await strict.client.agentCommand(domain: guest.name, json: ping) == #"{"return":{}}"#)
            #expect(await strict.stop() == 0)
            let allowOnly = try FlaggedAgentProcess(name: "ga-allow", flags: ["--agent-allow", "guest-ping"])
            #expect(try await allowOnly.client.agentCommand(domain: guest.name, json: ping) == #"{"return":{}}"#)
            let notAllowed = await AgentBed.error { _ = try await allowOnly.client.agentInfo(domain: guest.name) }
            #expect(notAllowed?.code == .permissionDenied)
            #expect(await allowOnly.stop() == 0)
        }
        #expect(await agent.stop() == 0)
    }

    @Test func typedCallsMatchTheGuest() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "ga-typed")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await guestAgentTestsGuest.lend(agent.client) { guest in
            let client = agent.client
            let name = guest.name

            #expect(try await client.pingAgent(domain: name) > .zero)
            let info = try await client.agentInfo(domain: name)
            #expect(info.version.hasPrefix("7.2"))
            #expect(info.commands.contains { $0.name == "guest-exec" && $0.enabled })

            let os = try await client.guestOSInfo(domain: name)
            #expect(os.id == "virthost-testguest")
            #expect(os.name == "virthost test guest")
            #expect(os.machine == "x86_64")
            let buildInfo = (try? String(contentsOfFile: "\(TestBed.guestDir)/build-info.txt", encoding: .utf8)) ?? ""
            if let line = buildInfo.split(separator: "\n").first(where: { $0.hasPrefix("kernel_release=") }) {
                #expect(os.kernelRelease == String(line.dropFirst("kernel_release=".count)))
            }
            #expect(try await client.guestHostName(domain: name) == "virthost-testguest")

            let interfaces = try await client.guestInterfaces(domain: name)
            let loopback = try #require(interfaces.first { $0.name == "lo" })
            #expect(loopback.addresses.contains { $0.type == "ipv4" && $0.address == "127.0.0.1" && $0.prefix == 8 })
            let nic = interfaces.first { $0.mac == guest.mac }
            #expect(nic != nil, "no guest interface with \(guest.mac): \(interfaces.map(\.mac))")

            let users = try await client.guestUsers(domain: name)
            #expect(users.map(\.user) == ["root"])
            #expect(users.first?.loginTime.seconds == 1_700_000_000)

            let time = try await client.guestTime(domain: name)
            #expect(abs(time.timeIntervalSinceNow) < 300, "guest clock \(time)")

            // File systems: none on a real disk until the data disk is mounted.
            #expect(try await client.guestFilesystems(domain: name).isEmpty)
            try await guest.mountData(client)
            let filesystems = try await client.guestFilesystems(domain: name)
            #expect(filesystems.map(\.mountpoint) == ["/mnt/data"])
            #expect(filesystems.first?.type == "ext4")
            #expect(filesystems.first?.disks.count == 1)
            #expect((filesystems.first?.totalBytes ?? 0) > 8 << 20)

            // Freeze, status, a command the frozen agent refuses, thaw.
            #expect(try await client.filesystemsFrozen(domain: name) == false)
            #expect(try await client.freezeFilesystems(domain: name) == 1)
            #expect(try await client.filesystemsFrozen(domain: name))
            let refused = await AgentBed.error { _ = try await client.exec(domain: name, program: "/bin/true") }
            #expect(refused?.code == .failedPrecondition)
            #expect(refused?.guestAgentError?.errorClass == "CommandNotFound")
            #expect(refused?.guestAgentError?.desc.contains("frozen") == true)
            #expect(try await client.thawFilesystems(domain: name) == 1)
            #expect(try await client.filesystemsFrozen(domain: name) == false)
            #expect(try await client.freezeFilesystems(domain: name, mountpoints: ["/mnt/data"]) == 1)
            #expect(try await client.thawFilesystems(domain: name) == 1)

            // The CLI's typed commands run against the same guest.
            for command in ["ping", "info", "osinfo", "hostname", "interfaces", "fsinfo", "users", "time", "fsstatus"] {
                let result = try AgentBed.cli(agent.socketPath, ["agent", command, name])
                #expect(result.status == 0, "agent \(command): \(result.stderr)")
                let json = try AgentBed.cli(agent.socketPath, ["--json", "agent", command, name])
                #expect((try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8))) != nil, "agent \(command) --json: \(json.stdout)")
            }
            #expect(try AgentBed.cli(agent.socketPath, ["agent", "hostname", name]).stdout == "virthost-testguest\n")
            #expect(try AgentBed.cli(agent.socketPath, ["agent", "fsinfo", name]).stdout.contains("/mnt/data"))
        }
        #expect(await agent.stop() == 0)
    }

    /// A running machine's list row and statistics (issue 18) against
    /// libvirt's own reads: every counter of the agent's GetStats lies
    /// between a direct `virDomainListGetStats` before it and one after it,
    /// and the 1 MiB the guest reads from its disk in between shows.
    @Test func runningMachineListRowAndStatistics() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "ga-stats")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await guestAgentTestsGuest.lend(agent.client) { guest in
            let client = agent.client
            let direct = try guest.connection.lookupDomain(name: guest.name)
            let info = try direct.info()
            let groups: DomainStatsGroups = [.cpuTotal, .balloon, .vcpu, .interface, .block]
            func libvirt() throws -> DomainStatsRecord {
                try #require(try guest.connection.domainStats([direct], groups).first)
            }
            // The row's CPU time is libvirt's cpu.time statistic (ns), not
            // virDomainGetInfo's (10 ms ticks from /proc here): bracketed the same way.
            let preList = try libvirt()
            let row = try #require(try await client.listDomains(.with { $0.namePrefix = guest.name }).domains.first)
            let postList = try libvirt()
            #expect(row.name == guest.name && row.state == .running && row.id == direct.id && row.id != 0)
            #expect(row.maxMemoryKib == info.maxMemoryKiB && row.memoryKib == info.memoryKiB && row.vcpus == info.vcpus)
            let (low, high) = (preList.unsigned("cpu.time") ?? 0, postList.unsigned("cpu.time") ?? 0)
            #expect(low > 0 && low <= row.cpuTimeNs && row.cpuTimeNs <= high, "\(low) <= \(row.cpuTimeNs) <= \(high)")

            let first = try await client.domainStats([guest.name])
            let read = try await client.exec(
                domain: guest.name, program: "/bin/sh",
                arguments: ["-c", "echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda of=/dev/null bs=65536 count=16"])
            #expect(read.exitCode == 0, "\(String(decoding: read.stderr, as: UTF8.self))")
            let before = try libvirt()
            let stats = try #require(try await client.domainStats([guest.name]).stats.first)
            let after = try libvirt()
            func between(_ value: UInt64, _ key: String) {
                let low = before.unsigned(key) ?? 0
                let high = after.unsigned(key) ?? 0
                #expect(low <= value && value <= high, "\(key): \(low) <= \(value) <= \(high)")
            }
            between(stats.cpuTimeNs, "cpu.time")
            #expect(stats.vcpus.count == 1 && stats.vcpusCurrent == 1)
            for vcpu in stats.vcpus { between(vcpu.timeNs, "vcpu.\(vcpu.index).time") }
            #expect(stats.balloonCurrentKib == info.memoryKiB && stats.rssKib > 0)
            let disk = try #require(stats.disks.first)
            #expect(stats.disks.count == 1 && disk.name == "vda" && disk.path == guest.diskPath)
            between(disk.readBytes, "block.0.rd.bytes")
            between(disk.readRequests, "block.0.rd.reqs")
            between(disk.writeBytes, "block.0.wr.bytes")
            let earlier = try #require(first.stats.first?.disks.first)
            #expect(disk.readBytes >= earlier.readBytes + 1 << 20, "the guest's 1 MiB read")
            let nic = try #require(stats.interfaces.first)
            #expect(stats.interfaces.count == 1 && nic.name == before["net.0.name"]?.string)
            between(nic.rxBytes, "net.0.rx.bytes")
            between(nic.txPackets, "net.0.tx.pkts")
        }
    }

    @Test func execStdoutStderrExitCodesAndStreaming() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "ga-exec")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await guestAgentTestsGuest.lend(agent.client) { guest in
            let client = agent.client
            let name = guest.name

            let mixed = try await client.exec(domain: name, program: "/bin/sh", arguments: ["-c", "echo out; echo err >&2; exit 3"])
            #expect(mixed.exited && mixed.exitCode == 3 && mixed.signal == 0 && mixed.pid > 0)
            #expect(String(decoding: mixed.stdout, as: UTF8.self) == "out\n")
            #expect(String(decoding: mixed.stderr, as: UTF8.self) == "err\n")
            #expect(!mixed.stdoutTruncated && !mixed.stderrTruncated)

            let env = try await client.exec(
                domain: name, program: "/bin/sh", arguments: ["-c", "echo \"$GREETING $0\""], env: ["GREETING=hello", "PATH=/bin"])
            #expect(String(decoding: env.stdout, as: UTF8.self) == "hello /bin/sh\n")

            let bytes = Data((0..<(64 << 10)).map { _ in UInt8.random(in: 0...255) })
            let echoed = try await client.exec(domain: name, program: "/bin/cat", stdin: bytes)
            #expect(echoed.exitCode == 0 && echoed.stdout == bytes)

            let killed = try await client.exec(domain: name, program: "/bin/sh", arguments: ["-c", "kill -9 $$"])
            #expect(killed.exited && killed.signal == 9)

            let missing = await AgentBed.error { _ = try await client.exec(domain: name, program: "/bin/no-such-program") }
            #expect(missing?.code == .failedPrecondition)
            #expect(missing?.guestAgentError?.desc.contains("Failed to execute child process") == true)

            // Large output: the stream sends all of it in chunks; the unary reply keeps 1.5 MiB.
            let size = 3_000_000
            let parts = PartLog()
            let streamed = try await client.execStream(
                domain: name, program: "/bin/sh", arguments: ["-c", "head -c \(size) /dev/zero; echo done >&2"]
            ) { part in parts.add(part) }
            #expect(streamed.exited && streamed.exitCode == 0)
            #expect(streamed.stdout.isEmpty)  // sent before the exit
            let log = parts.parts
            guard case .started(let started)? = log.first else { Issue.record("first part is not started: \(log.first as Any)"); return }
            #expect(started.pid == streamed.pid)
            guard case .exit? = log.last else { Issue.record("last part is not exit"); return }
            let chunks = log.compactMap { part -> Data? in if case .stdout(let d) = part { d } else { nil } }
            #expect(chunks.reduce(0) { $0 + $1.count } == size)
            #expect(chunks.allSatisfy { $0.count <= 256 * 1024 })
            #expect(log.contains { if case .stderr(let d) = $0 { String(decoding: d, as: UTF8.self) == "done\n" } else { false } })
            let unary = try await client.exec(domain: name, program: "/bin/sh", arguments: ["-c", "head -c \(size) /dev/zero"])
            #expect(unary.stdout.count == 1_536 * 1024 && unary.stdoutTruncated)

            // When output arrives: qemu-ga 7.2 hands it out at the exit only.
            let timed = TimedParts()
            let start = ContinuousClock.now
            _ = try await client.execStream(
                domain: name, program: "/bin/sh", arguments: ["-c", "echo first; sleep 2; echo second"]
            ) { part in timed.add(part, at: .now - start) }
            let firstOutput = try #require(timed.firstOutput)
            print("end-to-end: exec stream: started after \(AgentBed.ms(timed.started ?? .zero)), "
                + "first output after \(AgentBed.ms(firstOutput)) (the program printed at 0 s and exited at 2 s)")
            #expect(firstOutput >= .milliseconds(1900))

            // The deadline ends the wait: exited = false, the program keeps running.
            let waitStart = ContinuousClock.now
            let slow = try await client.exec(domain: name, program: "/bin/sleep", arguments: ["4"], timeout: .seconds(2))
            let waited = ContinuousClock.now - waitStart
            #expect(!slow.exited && slow.pid > 0)
            #expect(waited < .seconds(2) && waited > .milliseconds(1500), "\(waited)")
            try await Task.sleep(for: .seconds(3))
            let later = try await client.agentCommand(
                domain: name, json: #"{"execute":"guest-exec-status","arguments":{"pid":\#(slow.pid)}}"#)
            #expect(later.contains(#""exited":true"#))

            // The CLI prints the output and exits with the program's code.
            let cli = try AgentBed.cli(agent.socketPath, ["agent", "exec", name, "--", "/bin/sh", "-c", "echo hi; echo oops >&2; exit 7"])
            #expect(cli.status == 7)
            #expect(cli.stdout == "hi\n")
            #expect(cli.stderr == "oops\n")
            let signalled = try AgentBed.cli(agent.socketPath, ["agent", "exec", name, "--", "/bin/sh", "-c", "kill -TERM $$"])
            #expect(signalled.status == 128 + 15)
            let timedOut = try AgentBed.cli(agent.socketPath, ["agent", "exec", name, "--timeout", "1", "--", "/bin/sleep", "3"])
            #expect(timedOut.status == 124)
            #expect(timedOut.stderr.contains("still runs in the guest"))
        }
        #expect(await agent.stop() == 0)
    }

    /// qemu-ga stopped (SIGSTOP) inside the guest: a call with a deadline
    /// gets DEADLINE_EXCEEDED at the deadline, and once qemu-ga runs again
    /// (SIGCONT) the next call works.
    @Test func deadlineExceededThenTheAgentAnswersAgain() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "ga-deadline")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await guestAgentTestsGuest.lend(agent.client) { guest in
            let client = agent.client
            let name = guest.name
            let ping = #"{"execute":"guest-ping"}"#
            // In the background of the guest: stop qemu-ga after 1 s for 12 s.
            try await guest.shell(
                client, #"(sleep 1; kill -STOP $(pidof qemu-ga); sleep 12; kill -CONT $(pidof qemu-ga)) >/dev/null 2>&1 &"#)
            let stopped = ContinuousClock.now + .seconds(1)
            try await Task.sleep(for: .seconds(2))

            // 1. The caller's gRPC deadline of 2 s.
            var start = ContinuousClock.now
            let first = await AgentBed.error { _ = try await client.agentCommand(domain: name, json: ping, timeout: .seconds(2)) }
            let firstElapsed = ContinuousClock.now - start
            #expect(first?.code == .deadlineExceeded)
            #expect(firstElapsed >= .milliseconds(1900) && firstElapsed < .milliseconds(3000), "\(firstElapsed)")

            // 2. An explicit timeout_seconds without a gRPC deadline: the agent's
            // own DEADLINE_EXCEEDED, with libvirt's code (86). libvirt now
            // re-synchronises with the stopped agent, which takes 5 s.
            start = ContinuousClock.now
            var explicit: RPCError?
            do {
                _ = try await client.agents.command(.with {
                    $0.domain = .named(name)
                    $0.command = ping
                    $0.timeoutSeconds = 2
                })
            } catch let error as RPCError { explicit = error }
            let explicitElapsed = ContinuousClock.now - start
            #expect(explicit?.code == .deadlineExceeded)
            if let explicit {
                let wrapped = VirtHostError(explicit)
                #expect(wrapped.libvirtCodeName == "VIR_ERR_AGENT_UNRESPONSIVE")
                #expect(wrapped.message.contains("did not answer within 2.0 s"))
            }

            // 3. A typed call with a deadline behaves the same.
            start = ContinuousClock.now
            let typed = await AgentBed.error { _ = try await client.guestHostName(domain: name, timeout: .seconds(1)) }
            let typedElapsed = ContinuousClock.now - start
            #expect(typed?.code == .deadlineExceeded)

            // 4. Once qemu-ga runs again, the next call works.
            let resumed = stopped + .seconds(12)
            if resumed > .now { try await Task.sleep(until: resumed + .milliseconds(500), clock: .continuous) }
            start = ContinuousClock.now
            #expect(try await client.agentCommand(domain: name, json: ping, timeout: .seconds(15)) == #"{"return":{}}"#)
            let recovery = ContinuousClock.now - start
            start = ContinuousClock.now
            #expect(try await client.guestHostName(domain: name, timeout: .seconds(5)) == "virthost-testguest")
            let after = ContinuousClock.now - start
            #expect(after < .seconds(1))
            print("end-to-end: qemu-ga stopped: 2 s deadline -> DEADLINE_EXCEEDED after \(AgentBed.ms(firstElapsed)); "
                + "timeout_seconds 2 -> DEADLINE_EXCEEDED after \(AgentBed.ms(explicitElapsed)) (libvirt's re-sync); "
                + "1 s deadline typed -> after \(AgentBed.ms(typedElapsed)); after SIGCONT first call \(AgentBed.ms(recovery)), next \(AgentBed.ms(after))")
        }
        #expect(await agent.stop() == 0)
    }

    /// qemu-ga killed inside the guest: UNAVAILABLE at once, and a quiesced
    /// snapshot (which needs the agent) fails without leaving anything.
    @Test func agentGoneIsUnavailableFast() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "ga-gone")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        // Last on the shared guest: without its qemu-ga it is of no further use.
        try await guestAgentTestsGuest.lend(agent.client, last: true) { guest in
            let client = agent.client
            let name = guest.name
            try await guest.mountData(client)
            try await guest.shell(client, #"(sleep 1; kill $(pidof qemu-ga)) >/dev/null 2>&1 &"#)
            try await Task.sleep(for: .seconds(2))

            var timings: [Duration] = []
            for _ in 0..<3 {
                let start = ContinuousClock.now
                let error = await AgentBed.error {
                    _ = try await client.agentCommand(domain: name, json: #"{"execute":"guest-ping"}"#, timeout: .seconds(5))
                }
                timings.append(.now - start)
                #expect(error?.code == .unavailable)
                #expect(error?.libvirtCodeName == "VIR_ERR_AGENT_UNRESPONSIVE")
                #expect(error?.message.contains("not connected") == true)
            }
            let start = ContinuousClock.now
            let typed = await AgentBed.error { _ = try await client.pingAgent(domain: name, timeout: .seconds(5)) }
            let typedElapsed = ContinuousClock.now - start
            #expect(typed?.code == .unavailable)
            print("end-to-end: qemu-ga killed: UNAVAILABLE after \(timings.map(AgentBed.ms).joined(separator: ", ")); typed Ping \(AgentBed.ms(typedElapsed))")
            #expect(timings.allSatisfy { $0 < .seconds(1) })
            #expect(typedElapsed < .seconds(1))

            // A quiesced snapshot needs the agent: it fails and changes nothing.
            let before = try guest.liveDiskSources()
            let quiesced = await AgentBed.error {
                _ = try await client.createSnapshot(domain: name, name: "quiesced", diskOnly: true, quiesce: true)
            }
            #expect(quiesced?.code == .unavailable)
            #expect(try await client.listSnapshots(domain: name).isEmpty)
            #expect(try guest.liveDiskSources() == before)
            // Without quiesce it does not need the agent.
            let plain = try await client.createSnapshot(domain: name, name: "plain", diskOnly: true)
            #expect(plain.diskOnly)
            try await client.deleteSnapshot(domain: name, name: "plain")
            #expect(try guest.liveDiskSources() == before)
        }
        #expect(await agent.stop() == 0)
    }
}

final class PartLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Virthost_V1_ExecStreamResponse.OneOf_Part] = []
    func add(_ part: Virthost_V1_ExecStreamResponse.OneOf_Part) { lock.withLock { list.append(part) } }
    var parts: [Virthost_V1_ExecStreamResponse.OneOf_Part] { lock.withLock { list } }
}

final class TimedParts: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var startedAt: Duration?
    private var firstOutputAt: Duration?
    func add(_ part: Virthost_V1_ExecStreamResponse.OneOf_Part, at time: Duration) {
        lock.withLock {
            switch part {
            case .started: startedAt = time
            case .stdout, .stderr: if firstOutputAt == nil { firstOutputAt = time }
            case .exit: break
            }
        }
    }
    var started: Duration? { lock.withLock { startedAt } }
    var firstOutput: Duration? { lock.withLock { firstOutputAt } }
}
