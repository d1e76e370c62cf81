import Foundation
import GRPCCore
import Libvirt
import Logging
import ServiceLifecycle
import Testing
import VirtHostClient
@testable import VirtHostServer

/// The guest-agent service's parts that need no guest: policy, deadlines,
/// error mapping, the per-machine gate, reply parsing; and snapshots on the
/// test driver. The real guest is in EndToEndTests/GuestAgentTests.
@Suite struct GuestAgentServiceTests {
    // MARK: Policy

    @Test func policyDecisions() {
        let policy = GuestAgentPolicy(allow: ["guest-ping", "guest-info", "guest-file-*"], deny: ["guest-file-write"])
        #expect(policy.decide("guest-ping") == .allowed)
        #expect(policy.decide("guest-file-read") == .allowed)
        #expect(policy.decide("guest-file-write") == .denied(rule: "guest-file-write"))
        #expect(policy.decide("guest-exec") == .notAllowed)
        let denyOnly = GuestAgentPolicy(deny: ["guest-exec*", "guest-shutdown"])
        #expect(denyOnly.decide("guest-exec-status") == .denied(rule: "guest-exec*"))
        #expect(denyOnly.decide("guest-shutdown") == .denied(rule: "guest-shutdown"))
        #expect(denyOnly.decide("guest-shutdownx") == .allowed)
        #expect(GuestAgentPolicy().decide("anything") == .allowed)
        #expect(GuestAgentPolicy(deny: ["*"]).decide("guest-ping") == .denied(rule: "*"))
    }

    @Test func policyRulesAreChecked() {
        #expect(GuestAgentPolicy.problem(withRule: "guest-exec") == nil)
        #expect(GuestAgentPolicy.problem(withRule: "guest-*") == nil)
        #expect(GuestAgentPolicy.problem(withRule: "*") == nil)
        #expect(GuestAgentPolicy.problem(withRule: "") != nil)
        #expect(GuestAgentPolicy.problem(withRule: "guest exec") != nil)
        #expect(GuestAgentPolicy.problem(withRule: "guest-*-x") != nil)
        #expect(GuestAgentPolicy.problem(withRule: String(repeating: "a", count: 200)) != nil)
        #expect(GuestAgentPolicy(allow: ["ok"], deny: ["no pe"]).problems().count == 1)
    }

    @Test func denialNamesTheRule() {
        let policy = GuestAgentPolicy(allow: ["guest-ping"], deny: ["guest-exec"])
        do {
            try policy.check("guest-exec")
            Issue.record("denied command passed")
        } catch let convertible as any RPCErrorConvertible {
            let error = RPCError(convertible)
            #expect(error.code == .permissionDenied)
            #expect(error.message.contains("'guest-exec'") && error.message.contains("deny list"))
        } catch { Issue.record("\(error)") }
        do {
            try policy.check("guest-info")
            Issue.record("command outside the allow list passed")
        } catch let convertible as any RPCErrorConvertible {
            let error = RPCError(convertible)
            #expect(error.code == .permissionDenied)
            #expect(error.message.contains("allow list (guest-ping)"))
        } catch { Issue.record("\(error)") }
    }

    // MARK: Deadlines

    @Test func grpcTimeoutHeaderParses() {
        #expect(CallDeadline.parseTimeout("2S") == .seconds(2))
        #expect(CallDeadline.parseTimeout("2500m") == .milliseconds(2500))
        #expect(CallDeadline.parseTimeout("1H") == .seconds(3600))
        #expect(CallDeadline.parseTimeout("3M") == .seconds(180))
        #expect(CallDeadline.parseTimeout("99999999u") == .microseconds(99_999_999))
        #expect(CallDeadline.parseTimeout("5n") == .nanoseconds(5))
        for bad in ["", "S", "2", "2s", "-2S", "123456789S", "2.5S", "two"] {
            #expect(CallDeadline.parseTimeout(bad) == nil, "\(bad)")
        }
    }

    @Test func deadlineBecomesLibvirtSecondsRoundedUp() throws {
        func wait(_ header: String?, _ explicit: UInt32 = 0, _ mode: Virthost_V1_AgentTimeoutMode = .deadline) throws -> GuestAgentWait {
            try GuestAgentWait.resolve(
                timeoutSeconds: explicit, mode: mode, deadline: header.map { CallDeadline.parseTimeout($0)! })
        }
        #expect(try wait("2S").libvirt == .seconds(2))
        #expect(try wait("2500m").libvirt == .seconds(3))
        #expect(try wait("100m").libvirt == .seconds(1))
        #expect(try wait("1n").libvirt == .seconds(1))
        #expect(try wait("2000001u").libvirt == .seconds(3))
        #expect(try wait(nil).libvirt == .default)
        #expect(try wait(nil).mode == .default)
        #expect(try wait(nil, 7).libvirt == .seconds(7))
        #expect(try wait("10S", 3).libvirt == .seconds(3))  // the shorter wins
        #expect(try wait("2S", 30).libvirt == .seconds(2))
        #expect(try wait("2S", 30).limit == .seconds(2))
        #expect(try wait("2S", 0, .block).libvirt == .block)
        #expect(try wait(nil, 0, .nowait).libvirt == .noWait)
        #expect(try wait(nil, 9, .default).libvirt == .default)
        #expect(try wait("99999999H").libvirt == .seconds(Int32.max))
        #expect(throws: Refusal.self) { try wait(nil, 86_401) }
        #expect(throws: Refusal.self) { try wait(nil, 0, .UNRECOGNIZED(9)) }
    }

    // MARK: Errors

    @Test func agentFailuresMapByMessageAndElapsedTime() {
        let twoSeconds = GuestAgentWait(libvirt: .seconds(2), mode: .deadline, until: .now + .seconds(2), limit: .seconds(2))
        let notConnected = LibvirtError(code: .agentUnresponsive, domain: .qemu, message: "Guest agent is not responding: QEMU guest agent is not connected")
        let timedOut = LibvirtError(code: .agentUnresponsive, domain: .qemu, message: "Guest agent is not responding: Guest agent not available for now")
        #expect(GuestAgentErrors.rpcError(notConnected, elapsed: .milliseconds(50), wait: twoSeconds).code == .unavailable)
        #expect(GuestAgentErrors.rpcError(notConnected, elapsed: .seconds(3), wait: twoSeconds).code == .unavailable)
        let late = GuestAgentErrors.rpcError(timedOut, elapsed: .milliseconds(2018), wait: twoSeconds)
        #expect(late.code == .deadlineExceeded)
        #expect(late.message.contains("within 2.0 s"))
        // libvirt's 5 s re-synchronisation with a stopped agent is also past the limit.
        #expect(GuestAgentErrors.rpcError(timedOut, elapsed: .seconds(5), wait: twoSeconds).code == .deadlineExceeded)
        // Failing early (no-wait mode, or no limit of the caller's) is the agent's unavailability.
        #expect(GuestAgentErrors.rpcError(timedOut, elapsed: .milliseconds(20), wait: twoSeconds).code == .unavailable)
        let noWait = GuestAgentWait(libvirt: .noWait, mode: .nowait, until: nil, limit: nil)
        let early = GuestAgentErrors.rpcError(timedOut, elapsed: .milliseconds(20), wait: noWait)
        #expect(early.code == .unavailable && early.message.contains("NOWAIT"))
        let noLimit = GuestAgentWait(libvirt: .default, mode: .default, until: nil, limit: nil)
        #expect(GuestAgentErrors.rpcError(timedOut, elapsed: .seconds(5), wait: noLimit).code == .unavailable)
        // Not an agent error: the usual mapping.
        let missing = LibvirtError(code: .noDomain, domain: .qemu, message: "Domain not found")
        #expect(GuestAgentErrors.rpcError(missing, elapsed: .zero, wait: twoSeconds).code == .notFound)
        #expect(!GuestAgentErrors.isAgentError(missing))
        #expect(GuestAgentErrors.isAgentError(notConnected))
    }

    @Test func agentErrorRepliesKeepClassAndDescription() throws {
        let notFound = LibvirtError(
            code: .internalError, domain: .qemu,
            message: "internal error: unable to execute QEMU agent command 'guest-nope': The command guest-nope has not been found")
        let reply = try #require(GuestAgentErrors.agentReply(notFound.message))
        #expect(reply == .init(command: "guest-nope", desc: "The command guest-nope has not been found", errorClass: "CommandNotFound"))
        let error = GuestAgentErrors.rpcError(notFound, elapsed: .zero, wait: GuestAgentWait(libvirt: .default, mode: .default))
        #expect(error.code == .unimplemented)
        #expect(error.message == "guest agent error CommandNotFound from 'guest-nope': The command guest-nope has not been found")
        let client = VirtHostError(error)
        #expect(client.libvirtCodeName == "VIR_ERR_INTERNAL_ERROR")
        #expect(client.guestAgentError?.errorClass == "CommandNotFound")
        #expect(client.guestAgentError?.command == "guest-nope")
        #expect(client.guestAgentError?.desc == "The command guest-nope has not been found")
        // Read from the typed detail, not from the message text.
        var reworded = error
        reworded.message = "reworded"
        #expect(VirtHostError(reworded).guestAgentError?.errorClass == "CommandNotFound")
        let status = try #require(try error.unpackGoogleRPCStatus())
        let info = status.details.compactMap(\.errorInfo).first { $0.domain == "qemu-guest-agent" }
        #expect(info?.reason == "CommandNotFound")
        #expect(info?.metadata["desc"] == "The command guest-nope has not been found")
        let typed = status.details.compactMap(\.any).compactMap { try? Virthost_V1_AgentErrorDetail(unpackingAny: $0) }.first
        #expect(typed?.errorClass == "CommandNotFound")
        #expect(typed?.command == "guest-nope")

        let frozen = "internal error: unable to execute QEMU agent command 'guest-exec': Command guest-exec has been disabled: the agent is in frozen state"
        #expect(GuestAgentErrors.agentReply(frozen)?.errorClass == "CommandNotFound")
        #expect(GuestAgentErrors.rpcError(LibvirtError(code: .internalError, domain: .qemu, message: frozen), elapsed: .zero,
                                     wait: GuestAgentWait(libvirt: .default, mode: .default)).code == .failedPrecondition)
        let generic = "internal error: unable to execute QEMU agent command 'guest-exec-status': Invalid parameter 'pid'"
        #expect(GuestAgentErrors.agentReply(generic) == .init(command: "guest-exec-status", desc: "Invalid parameter 'pid'", errorClass: "GenericError"))
        #expect(GuestAgentErrors.agentReply("internal error: something else") == nil)
    }

    // MARK: The gate

    @Test func gateSerializesOneMachineAndCapsTheTotal() async throws {
        let gate = GuestAgentGate(limit: 2)
        let log = EventLog()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, key) in ["a", "a", "b", "c"].enumerated() {
                group.addTask {
                    try await gate.run(key: key, until: nil) {
                        log.add("start \(index) \(key)")
                        try await Task.sleep(for: .milliseconds(100))
                        log.add("end \(index) \(key)")
                    }
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            try await group.waitForAll()
        }
        let events = log.events
        // Never two calls on "a" at once, never more than two in all.
        var running: [String] = []
        for event in events {
            let parts = event.split(separator: " ")
            if parts[0] == "start" {
                #expect(!running.contains(String(parts[2])), "\(events)")
                running.append(String(parts[2]))
                #expect(running.count <= 2, "\(events)")
            } else {
                running.removeAll { $0 == String(parts[2]) }
            }
        }
        #expect(gate.counts == (0, 0))
    }

    @Test func gateWaitEndsAtTheDeadline() async throws {
        let gate = GuestAgentGate(limit: 4)
        // The holder keeps the machine far longer than the deadline, so that
        // "ended at the deadline" does not depend on how loaded the machine is.
        let holder = Task { try await gate.run(key: "m", until: nil) { try await Task.sleep(for: .seconds(5)) } }
        try await waitUntil("the holder to take the gate") { gate.counts.running == 1 }
        let started = ContinuousClock.now
        do {
            _ = try await gate.run(key: "m", until: .now + .milliseconds(200)) { Issue.record("ran while the machine was busy") }
        } catch let convertible as any RPCErrorConvertible {
            let error = RPCError(convertible)
            #expect(error.code == .deadlineExceeded)
        }
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(180) && waited < .seconds(4), "\(waited)")
        holder.cancel()
        _ = try? await holder.value
        #expect(gate.counts == (0, 0))
    }

    // MARK: Replies

    @Test func repliesBecomeTypedMessages() throws {
        func value(_ json: String) throws -> Any? { try GuestAgentJSON.object(json, command: "test")["return"] }
        let info = try GuestAgentReplies.info(value(#"{"return":{"version":"7.2.22","supported_commands":[{"enabled":true,"name":"guest-ping","success-response":true},{"enabled":false,"name":"guest-exec","success-response":true}]}}"#))
        #expect(info.version == "7.2.22")
        #expect(info.commands.map(\.name) == ["guest-exec", "guest-ping"])
        #expect(info.commands.map(\.enabled) == [false, true])
        let interfaces = try GuestAgentReplies.interfaces(value(#"{"return":[{"name":"eth0","hardware-address":"52:54:00:aa:bb:cc","ip-addresses":[{"ip-address-type":"ipv4","ip-address":"192.0.2.5","prefix":24}]},{"name":"lo"}]}"#))
        #expect(interfaces.interfaces.map(\.name) == ["eth0", "lo"])
        #expect(interfaces.interfaces[0].mac == "52:54:00:aa:bb:cc")
        #expect(interfaces.interfaces[0].addresses.first?.prefix == 24)
        let time = try GuestAgentReplies.time(value(#"{"return":1795913978400623000}"#))
        #expect(time.time.seconds == 1_795_913_978 && time.time.nanos == 400_623_000)
        let users = try GuestAgentReplies.users(value(#"{"return":[{"login-time":1700000000.25,"user":"root"}]}"#))
        #expect(users.users.first?.loginTime.seconds == 1_700_000_000)
        #expect(users.users.first?.loginTime.nanos == 250_000_000)
        let fs = try GuestAgentReplies.filesystems(value(#"{"return":[{"name":"vda","total-bytes":13237248,"mountpoint":"/mnt/data","disk":[{"dev":"/dev/vda"}],"used-bytes":15360,"type":"ext4"}]}"#))
        #expect(fs.filesystems.first?.disks == ["/dev/vda"])
        #expect(fs.filesystems.first?.totalBytes == 13_237_248)
        let status = try GuestAgentReplies.execStatus(value(#"{"return":{"exitcode":3,"err-data":"ZQo=","out-data":"YQpiCg==","err-truncated":false,"out-truncated":true,"exited":true}}"#))
        #expect(status.exited && status.exitCode == 3 && status.stdoutTruncated && !status.stderrTruncated)
        #expect(String(decoding: status.stdout, as: UTF8.self) == "a\nb\n")
        #expect(String(decoding: status.stderr, as: UTF8.self) == "e\n")
        #expect(try GuestAgentReplies.execStatus(value(#"{"return":{"exited":false}}"#)).exited == false)
        #expect(throws: Refusal.self) { try GuestAgentReplies.hostName(value(#"{"return":{}}"#)) }
        #expect(throws: Refusal.self) { try GuestAgentJSON.object("not json", command: "x") }
    }

    // MARK: Over the socket, on the test driver

    @Test func policyAppliesBeforeLibvirtToRawAndTypedCalls() async throws {
        let policy = GuestAgentPolicy(deny: ["guest-exec", "guest-fsfreeze-*"])
        try await GuestAgentHarness.withAgent(policy: policy) { client in
            for domain in ["web-1", "no-such-domain"] {
                let raw = await DaemonHarness.error {
                    _ = try await client.agentCommand(domain: domain, json: #"{"execute":"guest-exec","arguments":{"path":"/bin/true"}}"#)
                }
                #expect(raw?.code == .permissionDenied)
                #expect(raw?.message.contains("rule 'guest-exec'") == true)
                let typed = await DaemonHarness.error { _ = try await client.exec(domain: domain, program: "/bin/true") }
                #expect(typed?.code == .permissionDenied)
                #expect(typed?.message.contains("Exec needs the agent command 'guest-exec'") == true)
                let freeze = await DaemonHarness.error { _ = try await client.freezeFilesystems(domain: domain) }
                #expect(freeze?.message.contains("rule 'guest-fsfreeze-*'") == true)
                let snapshot = await DaemonHarness.error {
                    _ = try await client.createSnapshot(domain: domain, name: "q", diskOnly: true, quiesce: true)
                }
                #expect(snapshot?.code == .permissionDenied)
                #expect(snapshot?.message.contains("a quiesced snapshot needs the agent command 'guest-fsfreeze-freeze'") == true)
            }
            // Allowed commands go on to libvirt (whose test driver has no agent).
            let ping = await DaemonHarness.error { _ = try await client.pingAgent(domain: "web-1") }
            #expect(ping?.code == .unimplemented)
            let missing = await DaemonHarness.error { _ = try await client.pingAgent(domain: "no-such-domain") }
            #expect(missing?.code == .notFound)
        }
        try await GuestAgentHarness.withAgent(policy: GuestAgentPolicy(allow: ["guest-ping"])) { client in
            let info = await DaemonHarness.error { _ = try await client.agentInfo(domain: "web-1") }
            #expect(info?.code == .permissionDenied)
            #expect(info?.message.contains("not in the agent's allow list (guest-ping)") == true)
        }
    }

    @Test func typedInputIsCheckedBeforeLibvirt() async throws {
        try await DaemonHarness.withAgent { client, _ in
            for domain in ["web-1", "no-such-domain"] {
                let cases: [(String, () async throws -> Void)] = [
                    ("empty program", { _ = try await client.exec(domain: domain, program: "") }),
                    ("NUL in program", { _ = try await client.exec(domain: domain, program: "/bin/t\u{0}rue") }),
                    ("env without =", { _ = try await client.exec(domain: domain, program: "/bin/true", env: ["PATH"]) }),
                    ("env starting with =", { _ = try await client.exec(domain: domain, program: "/bin/true", env: ["=x"]) }),
                    ("stdin over 64 KiB", { _ = try await client.exec(domain: domain, program: "/bin/cat", stdin: Data(count: (64 << 10) + 1)) }),
                    ("relative mount point", { _ = try await client.freezeFilesystems(domain: domain, mountpoints: ["mnt"]) }),
                    ("quiesce without disk-only", { _ = try await client.createSnapshot(domain: domain, name: "s", quiesce: true) }),
                    ("bad snapshot name", { _ = try await client.createSnapshot(domain: domain, name: "a/b") }),
                    ("empty snapshot name", { _ = try await client.snapshotXML(domain: domain, name: "") }),
                ]
                for (label, call) in cases {
                    let error = await DaemonHarness.error(call)
                    #expect(error?.code == .invalidArgument, "\(label) on \(domain): \(String(describing: error))")
                }
            }
            do {
                _ = try await client.agents.ping(.with {
                    $0.domain = .named("web-1")
                    $0.timeoutSeconds = 100_000
                })
                Issue.record("a timeout over a day was accepted")
            } catch let convertible as any RPCErrorConvertible {
            let error = RPCError(convertible)
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("over the limit"))
            }
        }
    }

    @Test func snapshotsOnTheTestDriver() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let first = try await client.createSnapshot(domain: "web-1", name: "before-upgrade", description: "clean state")
            #expect(first.name == "before-upgrade")
            #expect(first.domain == "web-1")
            #expect(first.description_p == "clean state")
            #expect(first.state == "running")
            #expect(first.current)
            #expect(first.parent == "")
            #expect(first.hasCreatedAt && abs(first.createdAt.date.timeIntervalSinceNow) < 60)
            #expect(first.disks.map(\.name) == ["vda"])
            #expect(first.disks.first?.snapshot == "internal")
            let second = try await client.createSnapshot(domain: "web-1", name: "after-upgrade")
            #expect(second.parent == "before-upgrade")
            let list = try await client.listSnapshots(domain: "web-1")
            #expect(list.map(\.name) == ["after-upgrade", "before-upgrade"])
            #expect(list.map(\.current) == [true, false])
            let xml = try await client.snapshotXML(domain: "web-1", name: "before-upgrade")
            #expect(xml.contains("<name>before-upgrade</name>") && xml.contains("<description>clean state</description>"))
            let reverted = try await client.revertSnapshot(domain: "web-1", name: "before-upgrade")
            #expect(reverted.current)
            let exists = await DaemonHarness.error { _ = try await client.createSnapshot(domain: "web-1", name: "after-upgrade") }
            #expect(exists != nil)
            try await client.deleteSnapshot(domain: "web-1", name: "before-upgrade", children: true)
            #expect(try await client.listSnapshots(domain: "web-1").isEmpty)
            let missing = await DaemonHarness.error { _ = try await client.snapshotXML(domain: "web-1", name: "before-upgrade") }
            #expect(missing?.code == .notFound)
            #expect(missing?.message.contains("snapshot of domain 'web-1'") == true)
            let noDomain = await DaemonHarness.error { _ = try await client.listSnapshots(domain: "no-such-domain") }
            #expect(noDomain?.code == .notFound)
            // The test driver has no disk-only snapshots: libvirt's own refusal.
            let diskOnly = await DaemonHarness.error { _ = try await client.createSnapshot(domain: "web-1", name: "d", diskOnly: true) }
            #expect(diskOnly?.code == .invalidArgument)
            #expect(diskOnly?.libvirtCode != nil)
        }
    }

    @Test func snapshotXMLIsBuiltWithEscaping() throws {
        let xml = SnapshotXML.create(name: "n1", description: "a <b> & 'c'")
        let document = try XMLReader(xml)
        #expect(document.string("/domainsnapshot/name") == "n1")
        #expect(document.string("/domainsnapshot/description") == "a <b> & 'c'")
        #expect(!SnapshotXML.create(name: "n", description: "").contains("description"))
    }
}

final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ event: String) { lock.withLock { list.append(event) } }
    var events: [String] { lock.withLock { list } }
}

/// An in-process agent on the demo host with a chosen agent command policy.
enum GuestAgentHarness {
    static func withAgent(policy: GuestAgentPolicy, _ body: (VirtHostClient) async throws -> Void) async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = DaemonSettings(libvirtURI: DaemonHarness.demoURI, socketPath: folder + "/agent.sock", socketMode: 0o600)
        configuration.guestAgentPolicy = policy
        try await DaemonHarness.withAgent(configuration: configuration) { client, _ in try await body(client) }
    }
}
