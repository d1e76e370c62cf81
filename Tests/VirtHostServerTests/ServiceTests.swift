import Foundation
import GRPCCore
import Testing
import VirtHostClient
@testable import VirtHostServer

/// The services through a real gRPC client over a real Unix socket.
@Suite struct ServiceTests {
    @Test func hostServiceAnswersEveryCall() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let version = try await client.version()
            #expect(version.agentVersion == DaemonVersion.current)
            #expect(version.hypervisorType == "TEST")
            #expect(version.libvirtVersion.hasPrefix("9.") || version.libvirtVersion.hasPrefix("1"))
            #expect(version.uri == DaemonHarness.demoURI)
            let node = try await client.nodeInfo()
            #expect(node.cpus == 8)
            #expect(node.memoryBytes == 32 << 30)
            let caps = try await client.capabilities()
            #expect(caps.xml.contains("<capabilities>"))
            #expect(!caps.guests.isEmpty)
            let health = try await client.health()
            #expect(health.status == .serving)
            #expect(health.libvirtConnected)
            #expect(health.uri == DaemonHarness.demoURI)
        }
    }

    @Test func listsAndGetsDomainsNetworksPoolsVolumes() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let domains = try await client.listDomains()
            #expect(domains.map(\.name) == ["build-agent", "db-1", "web-1"])
            let web = try await client.domain("web-1")
            #expect(web.state == .running)
            #expect(web.vcpus == 2)
            #expect(web.uuid == "4dea22b3-1d52-d8f3-2516-782e98ab3f01")
            #expect(try await client.domainXML("web-1").contains("<name>web-1</name>"))

            let nets = try await client.listNetworks()
            #expect(nets.map(\.name) == ["demo-bridged", "demo-isolated", "demo-nat", "demo-routed"])
            let nat = try await client.network("demo-nat")
            #expect(nat.forwardMode == .nat)
            #expect(nat.bridge == "virbr-demo0")
            #expect(nat.addresses == ["192.0.2.1/24"])
            let isolated = try await client.network("demo-isolated")
            #expect(isolated.forwardMode == .isolated)
            #expect(isolated.addresses == ["198.51.100.1/24", "2001:db8:100::1/64"])
            #expect(try await client.network("demo-routed").forwardMode == .route)
            #expect(try await client.network("demo-bridged").forwardMode == .bridge)
            #expect(try await client.networkXML("demo-nat").contains("<forward mode='nat'"))

            let pools = try await client.listPools()
            #expect(pools.map(\.name) == ["demo-backups", "demo-images"])
            let images = try await client.pool("demo-images")
            #expect(images.type == "dir")
            #expect(images.targetPath == "/var/lib/libvirt/images")
            #expect(images.state == .running)
            #expect(images.volumeCount == 3)
            let volumes = try await client.listVolumes(pool: "demo-images")
            #expect(volumes.map(\.name) == ["db-1.qcow2", "debian-12.iso", "web-1.qcow2"])
            let volume = try await client.volume(pool: "demo-images", name: "web-1.qcow2")
            #expect(volume.capacity == 20 << 30)
            #expect(volume.format == "qcow2")
            #expect(volume.path == "/var/lib/libvirt/images/web-1.qcow2")
        }
    }

    @Test func listsInterfacesAndDisksFromTheDomainXML() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let nics = try await client.listInterfaces(domain: "web-1")
            #expect(nics.map(\.mac) == ["52:54:00:00:0a:01", "52:54:00:00:0b:01"])
            #expect(nics.map(\.source) == ["demo-nat", "demo-isolated"])
            #expect(nics.allSatisfy { $0.type == .network && $0.model == "virtio" })
            let bridged = try await client.listInterfaces(domain: "build-agent")
            #expect(bridged.first?.type == .bridge)
            #expect(bridged.first?.source == "br0")
            #expect(bridged.first?.model == "rtl8139")

            let disks = try await client.listDisks(domain: "db-1")
            #expect(disks.map(\.target) == ["vda", "sda"])
            #expect(disks[0].sourcePath == "/var/lib/libvirt/images/db-1.qcow2")
            #expect(disks[0].format == "qcow2")
            #expect(disks[0].bus == "virtio")
            #expect(disks[1].device == "cdrom")
            #expect(disks[1].readOnly)
        }
    }

    @Test func domainLifecycleThroughTheAgent() async throws {
        let xml = """
            <domain type='test'>
              <name>svc-lifecycle</name>
              <memory unit='MiB'>256</memory>
              <vcpu>1</vcpu>
              <os><type arch='x86_64'>hvm</type></os>
            </domain>
            """
        try await DaemonHarness.withAgent { client, _ in
            let defined = try await client.defineDomain(xml: xml)
            #expect(defined.name == "svc-lifecycle")
            #expect(defined.state == .shutoff)
            #expect(defined.persistent)
            let started = try await client.startDomain("svc-lifecycle")
            #expect(started.state == .running)
            #expect(started.id > 0)
            let shutdown = try await client.shutdownDomain("svc-lifecycle")
            #expect(shutdown.state == .shutoff)  // the test driver stops at once
            _ = try await client.startDomain("svc-lifecycle")
            let destroyed = try await client.destroyDomain("svc-lifecycle")
            #expect(destroyed.state == .shutoff)
            try await client.undefineDomain("svc-lifecycle")
            let gone = await DaemonHarness.error { _ = try await client.domain("svc-lifecycle") }
            #expect(gone?.code == .notFound)
        }
    }

    @Test func activeAndInactiveFilters() async throws {
        try await DaemonHarness.withAgent { client, _ in
            _ = try await client.defineDomain(xml: """
                <domain type='test'><name>svc-filter</name><memory>65536</memory><os><type>hvm</type></os></domain>
                """)
            #expect(try await client.listDomains(inactiveOnly: true).map(\.name) == ["svc-filter"])
            #expect(try await client.listDomains(activeOnly: true).map(\.name) == ["build-agent", "db-1", "web-1"])
            let both = await DaemonHarness.error { _ = try await client.listDomains(activeOnly: true, inactiveOnly: true) }
            #expect(both?.code == .invalidArgument)
        }
    }
}
