import Foundation
import LibXML
import Libvirt
import Testing
import VirtHostClient

/// Through a real virthostd on qemu:///system, drive a real guest and check
/// every answer against libvirt itself.
@Suite(.serialized, .enabled(if: TestBed.shouldRun, "needs root, libvirtd and the test guest; make test sets them up"))
struct GuestLifecycleTests {
    @Test func agentReportsTheRealHypervisor() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "host")
        let version = try await agent.client.version()
        let direct = try Connection.open(TestBed.uri)
        #expect(version.hypervisorType == (try direct.hypervisorType()))
        #expect(version.hypervisorType == "QEMU")
        #expect(version.uri == TestBed.uri)
        #expect(version.daemonVersion == LibvirtRuntime.versionString(try direct.libVersion()))
        let health = try await agent.client.health()
        #expect(health.status == .serving)
        let node = try await agent.client.nodeInfo()
        #expect(node.cpus == (try direct.nodeInfo()).cpus)
        let networks = try await agent.client.listNetworks().map(\.name)
        #expect(networks == (try direct.listNetworks()).map(\.name))
        #expect(await agent.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: agent.socketPath))
    }

    @Test func defineStartListShutdownDestroyUndefine() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "lifecycle")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await TestGuest.with(disk: true) { guest in
            let client = agent.client
            let direct = guest.connection

            // Define through the agent; libvirt agrees.
            let defined = try await client.defineDomain(xml: guest.domainXML)
            #expect(defined.name == guest.name)
            #expect(defined.state == .shutoff)
            #expect(defined.persistent)
            let libvirtDomain = try direct.lookupDomain(name: guest.name)
            #expect(try libvirtDomain.uuid() == defined.uuid)

            // Start through the agent and wait for the guest's own agent.
            let started = try await client.startDomain(guest.name)
            #expect(started.state == .running)
            // libvirt caches a handle's id at lookup: ask with a fresh handle.
            #expect(started.id == (try direct.lookupDomain(name: guest.name)).id)
            let bootSeconds = try await guest.waitForAgent()
            print("end-to-end: \(guest.name) agent-ready \(String(format: "%.1f", bootSeconds)) s after start")
            #expect(bootSeconds < 20, "boot to agent-ready took \(bootSeconds) s")

            // A second start is a wrong-state error from the real driver.
            do {
                _ = try await client.startDomain(guest.name)
                Issue.record("starting a running domain succeeded")
            } catch let error as VirtHostError {
                #expect(error.code == .failedPrecondition)
                #expect(error.libvirtCodeName == "VIR_ERR_OPERATION_INVALID")
            }

            // Interfaces and disks match libvirt's live XML.
            let live = try XMLDocument(xmlString: try libvirtDomain.xml(), options: [])
            let nics = try await client.listInterfaces(domain: guest.name)
            #expect(nics.count == 1)
            #expect(nics.first?.mac == guest.mac)
            #expect(nics.first?.type == .network)
            #expect(nics.first?.source == guest.networkName)
            #expect(nics.first?.model == "virtio")
            let liveTarget = try live.nodes(forXPath: "/domain/devices/interface/target/@dev").first?.stringValue
            #expect(nics.first?.targetDev == liveTarget)
            #expect(liveTarget?.isEmpty == false)
            let disks = try await client.listDisks(domain: guest.name)
            #expect(disks.map(\.target) == ["vda"])
            #expect(disks.first?.sourcePath == guest.diskPath)
            #expect(disks.first?.bus == "virtio")
            #expect(disks.first?.format == "raw")
            #expect(disks.first?.serial == "vht-disk0")
            let liveDisks = try live.nodes(forXPath: "/domain/devices/disk/target/@dev").map { $0.stringValue ?? "" }
            #expect(disks.map(\.target) == liveDisks)

            // Graceful shutdown through the guest agent.
            _ = try await client.shutdownDomain(guest.name, mode: "agent")
            try await guest.waitForState(.shutoff)
            #expect(try await client.domain(guest.name).state == .shutoff)

            // Start again, then power off at once.
            _ = try await client.startDomain(guest.name)
            try await guest.waitForState(.running)
            let destroyed = try await client.destroyDomain(guest.name)
            #expect(destroyed.state == .shutoff)
            #expect(try libvirtDomain.state().state == .shutoff)

            // Undefine through the agent: libvirt no longer knows it.
            try await client.undefineDomain(guest.name)
            do {
                _ = try direct.lookupDomain(name: guest.name)
                Issue.record("the domain is still defined after undefine")
            } catch let error as LibvirtError {
                #expect(error.code == .noDomain)
            }
            let gone = try? await client.domain(guest.name)
            #expect(gone == nil)
        }
        #expect(await agent.stop() == 0)
        try expectNothingLeftBehind()
    }

    @Test func badInputChangesNothingOnTheRealHost() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "badinput")
        let before = try Connection.open(TestBed.uri).listDomains().map(\.name)
        for xml in ["", "not xml", "<domain type='qemu'><name>\(TestBed.prefix)broken</name>"] {
            do {
                _ = try await agent.client.defineDomain(xml: xml)
                Issue.record("bad XML was accepted: \(xml)")
            } catch let error as VirtHostError {
                #expect(error.code == .invalidArgument)
            }
        }
        let after = try Connection.open(TestBed.uri).listDomains().map(\.name)
        #expect(before == after)
        #expect(await agent.stop() == 0)
    }

    /// No domain, network, pool or volume of this run is left on the host.
    func expectNothingLeftBehind() throws {
        let connection = try Connection.open(TestBed.uri)
        let leftovers = try connection.listDomains().map(\.name) + connection.listNetworks().map(\.name)
            + connection.listStoragePools().map(\.name)
        #expect(leftovers.filter { $0.hasPrefix(TestBed.prefix) } == [])
        let files = (try? FileManager.default.contentsOfDirectory(atPath: "/var/lib/libvirt/images")) ?? []
        #expect(files.filter { $0.hasPrefix(TestBed.prefix) } == [])
    }
}
