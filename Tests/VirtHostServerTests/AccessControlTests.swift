import Foundation
import GRPCCore
import Testing
import VirtHostClient
@testable import VirtHostServer

/// Roles, the read-only socket, limits and deadlines.
@Suite struct AccessControlTests {
    @Test func rolesFollowUIDsAndGroups() {
        let policy = AccessPolicy(
            adminUIDs: [0], adminGroups: [10], operatorUIDs: [1000], operatorGroups: [20], readerUIDs: [2000],
            defaultRole: .none)
        #expect(policy.role(uid: 0, groups: []) == .admin)
        #expect(policy.role(uid: 5, groups: [10, 99]) == .admin)
        #expect(policy.role(uid: 1000, groups: []) == .operator)
        #expect(policy.role(uid: 7, groups: [20]) == .operator)
        #expect(policy.role(uid: 2000, groups: []) == .reader)
        #expect(policy.role(uid: 65534, groups: [65534]) == Role.none)
        #expect(AccessPolicy().role(uid: 65534, groups: [65534]) == .reader)
    }

    @Test func methodRequirements() {
        func need(_ service: String, _ method: String) -> MethodRoles.Requirement {
            MethodRoles.requirement(service: "virthost.v1.\(service)", method: method)
        }
        #expect(need("DomainService", "ListDomains") == .init(role: .reader, changes: false))
        #expect(need("EventService", "Watch") == .init(role: .reader, changes: false))
        #expect(need("DomainService", "StartDomain") == .init(role: .operator, changes: true))
        #expect(need("StorageService", "CreateVolume") == .init(role: .operator, changes: true))
        #expect(need("GuestAgentService", "Ping") == .init(role: .operator, changes: false))
        #expect(need("GuestAgentService", "Command") == .init(role: .admin, changes: true))
        #expect(need("GuestAgentService", "Exec") == .init(role: .admin, changes: true))
        // Operators define from a typed spec; the raw-XML variant refuses them itself.
        #expect(need("DomainService", "DefineDomain") == .init(role: .operator, changes: true))
        #expect(need("HostNetworkService", "CreateBridge") == .init(role: .admin, changes: true))
        // Host networking II: every change to links, addresses, routes and uplinks is admin; reads are reader.
        for method in ["SetLink", "AddAddress", "DeleteAddress", "AddRoute", "DeleteRoute", "BridgeUplink", "ConfirmBridge", "RestoreUplink"] {
            #expect(need("HostNetworkService", method) == .init(role: .admin, changes: true), "\(method)")
        }
        for method in ["ListAddresses", "ListRoutes", "ListPendingBridges"] {
            #expect(need("HostNetworkService", method) == .init(role: .reader, changes: false), "\(method)")
        }
        for method in ["AttachHostdev", "DetachHostdev", "SetSriovVfs", "CreateVhba", "DestroyNodeDevice"] {
            #expect(need("NodeDeviceService", method) == .init(role: .admin, changes: true), "\(method)")
        }
        for method in ["ListNodeDevices", "GetNodeDevice", "ListAssignableDevices", "ListHostdevs"] {
            #expect(need("NodeDeviceService", method) == .init(role: .reader, changes: false), "\(method)")
        }
        #expect(MethodRoles.requirement(service: "other.Service", method: "X").role == .admin)
    }

    @Test func readOnlySocketServesReadsAndRefusesChanges() async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = DaemonSettings(libvirtURI: DaemonHarness.demoURI, socketPath: folder + "/rw.sock", socketMode: 0o600)
        configuration.readOnlySocketPath = folder + "/ro.sock"
        try await DaemonHarness.withAgent(configuration: configuration) { _, _ in
            let readOnly = try VirtHostClient(socketPath: folder + "/ro.sock", wire: .grpc)
            defer { readOnly.close() }
            #expect(try await readOnly.listNetworks().count == 4)
            do {
                _ = try await readOnly.destroyDomain("web-1")
                Issue.record("a change went through the read-only socket")
            } catch let error as VirtHostError {
                #expect(error.code == .permissionDenied)
                #expect(error.message.contains("needs the operator role"))
                #expect(error.message.contains("read-only socket"))
            }
        }
    }

    @Test func concurrencyLimitAnswersResourceExhausted() async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = DaemonSettings(libvirtURI: DaemonHarness.demoURI, socketPath: folder + "/a.sock", socketMode: 0o600)
        configuration.limits.maxConcurrentCalls = 2
        try await DaemonHarness.withAgent(configuration: configuration) { client, _ in
            // Two watch streams hold both slots; nothing else runs meanwhile.
            // Each asks to resume from another run of the agent, so the
            // agent's first message to it (a gap event) comes at once: it
            // shows the stream got its slot and is running.
            let streaming = [Flag(), Flag()]
            let watchers = streaming.map { flag in Task { try await client.watchEvents(sinceEpoch: 1) { _ in flag.set() } } }
            defer { watchers.forEach { $0.cancel() } }
            try await waitUntil("both watch streams to start") { streaming.allSatisfy(\.isSet) }
            var refused: VirtHostError?
            do {
                _ = try await client.version()
            } catch let error as VirtHostError {
                refused = error
            }
            #expect(refused?.code == .resourceExhausted)
            #expect(refused?.message.contains("maximum of 2 calls") == true)
            // A slot frees when a stream ends.
            watchers[0].cancel()
            var answered = false
            for _ in 0..<250 where !answered {
                answered = (try? await client.version()) != nil
                if !answered { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(answered)
        }
    }

    @Test func oversizedMessagesAreRefused() async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = DaemonSettings(libvirtURI: DaemonHarness.demoURI, socketPath: folder + "/a.sock", socketMode: 0o600)
        configuration.limits.maxMessageBytes = 64 * 1024
        try await DaemonHarness.withAgent(configuration: configuration) { client, _ in
            let huge = "<domain>" + String(repeating: "x", count: 100_000) + "</domain>"
            do {
                _ = try await client.defineDomain(xml: huge)
                Issue.record("an oversized message was accepted")
            } catch let error as VirtHostError {
                #expect(error.code == .resourceExhausted)
            }
            #expect(try await client.version().hypervisorType == "TEST")  // still serving
        }
    }

    /// Over the wire: a call stuck in libvirt (here, a "libvirtd" that
    /// accepts and never answers) gets DEADLINE_EXCEEDED at the default
    /// deadline, and the agent goes on serving.
    @Test func defaultDeadlineAnswersAStuckCall() async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let silent = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(silent) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array((folder + "/mute.sock").utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(silent, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0 && listen(silent, 8) == 0)
        var configuration = DaemonSettings(
            libvirtURI: "qemu+unix:///system?socket=\(folder)/mute.sock", socketPath: folder + "/a.sock", socketMode: 0o600)
        configuration.limits.defaultDeadlineSeconds = 0.5
        try await DaemonHarness.withAgent(configuration: configuration) { client, _ in
            let started = ContinuousClock.now
            let error = await DaemonHarness.error { _ = try await client.listNetworks() }
            let took = ContinuousClock.now - started
            #expect(error?.code == .deadlineExceeded, "\(String(describing: error))")
            #expect(error?.message.contains("default deadline") == true)
            #expect(took >= .milliseconds(450) && took < .seconds(3))
            let again = await DaemonHarness.error { _ = try await client.listDomains() }
            #expect(again?.code == .deadlineExceeded)
        }
    }

    @Test func defaultDeadlineCutsAHandlerShort() async throws {
        let started = ContinuousClock.now
        do {
            _ = try await AccessInterceptor.withDeadline(.milliseconds(100)) {
                try await Task.sleep(for: .seconds(10))
                return 1
            }
            Issue.record("the deadline did not fire")
        } catch let convertible as any RPCErrorConvertible {
            let error = RPCError(convertible)
            #expect(error.code == .deadlineExceeded)
        }
        // Far below the 10 s sleep, with room for a loaded machine (2.4 s seen once under a full parallel run).
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}
