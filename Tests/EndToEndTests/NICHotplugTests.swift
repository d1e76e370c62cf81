import Foundation
import LibXML
import HostNetworking
import Libvirt
import Testing
import VirtHostClient

/// NICs attached to and detached from the test bed's guest through a real
/// virthostd, checked inside the guest (its agent reports the MACs it sees)
/// and in libvirt's live and persistent XML.
@Suite(.serialized, .enabled(if: TestBed.shouldRun, "needs root, libvirtd and the test guest; make test sets them up"))
struct NICHotplugTests {
    static func macs(_ connection: Connection, _ domain: String, inactive: Bool) throws -> [String] {
        let xml = try connection.lookupDomain(name: domain).xml(inactive ? .inactive : [])
        let document = try XMLDocument(xmlString: xml, options: [])
        return try document.nodes(forXPath: "/domain/devices/interface/mac/@address").compactMap { $0.stringValue?.lowercased() }
    }

    static func ms(_ seconds: Double) -> String { String(format: "%.0f ms", seconds * 1000) }

    @Test func hotPluggedNICsAreSeenInsideTheGuestAndGoAgain() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "nics")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await NetScratch.with { scratch in
            try await TestGuest.with { guest in
                let client = agent.client
                let direct = guest.connection
                _ = try await client.defineDomain(xml: guest.domainXML)
                _ = try await client.startDomain(guest.name)
                let boot = try await guest.waitForAgent()
                print("end-to-end: \(guest.name) agent-ready \(String(format: "%.1f", boot)) s after start")
                #expect(try guest.guestMACs().contains(guest.mac))

                // 1. A virtio NIC on a second network (isolated, with DHCP), live only, with a generated MAC.
                let network = try await client.defineNetwork(.with {
                    $0.name = scratch.network("hp")
                    $0.bridgeName = scratch.libvirtBridge("h")
                    $0.isolated = .init()
                    $0.ips = [.with {
                        $0.address = "10.231.40.1"
                        $0.prefix = 24
                        $0.dhcpRanges = [.with { $0.start = "10.231.40.100"; $0.end = "10.231.40.150" }]
                    }]
                }, start: true)
                let (nic, attachSeconds) = try await NetTest.timed {
                    try await client.attachInterface(domain: guest.name, type: .network, source: network.name, scope: .live)
                }
                #expect(nic.type == .network && nic.source == network.name && nic.model == "virtio")
                #expect(nic.mac.hasPrefix("52:54:00:") && nic.mac != guest.mac)
                #expect(!nic.targetDev.isEmpty)
                #expect(try Self.macs(direct, guest.name, inactive: false).contains(nic.mac))
                #expect(try !Self.macs(direct, guest.name, inactive: true).contains(nic.mac))
                let seen = try await NetTest.waitUntil(timeout: 20) { ((try? guest.guestMACs()) ?? []).contains(nic.mac) }
                print("end-to-end: attach live NIC \(nic.mac): call \(Self.ms(attachSeconds)), in the guest after \(seen.map(Self.ms) ?? "never")")
                #expect(seen != nil, "the guest never showed \(nic.mac)")

                // A real DHCP lease: the guest asks the network's dnsmasq (no traffic leaves the host).
                let ifname = try #require(try guest.guestInterface(mac: nic.mac))
                let dhcp = try await guest.exec("ip link set \(ifname) up && udhcpc -i \(ifname) -n -q -t 10 -T 1 -x hostname:vhtg -s /bin/true")
                #expect(dhcp.code == 0, "udhcpc: \(dhcp.output)")
                let leases = try await client.dhcpLeases(network: network.name)
                let lease = try #require(leases.first { $0.mac == nic.mac }, "leases: \(leases)")
                print("end-to-end: DHCP lease \(lease.ip)/\(lease.prefix) for \(lease.mac) (\(lease.hostname)) on \(lease.interface)")
                #expect(lease.ip.hasPrefix("10.231.40.") && lease.prefix == 24)
                #expect(lease.interface == network.bridge)
                #expect(lease.hostname == "vhtg")
                #expect(lease.expiresAt.date > Date())
                #expect(try await client.dhcpLeases(network: network.name, mac: "52:54:00:ff:ff:fe").isEmpty)

                let (detached, detachSeconds) = try await NetTest.timed {
                    try await client.detachInterface(domain: guest.name, mac: nic.mac, scope: .live)
                }
                print("end-to-end: detach live NIC \(nic.mac): completed=\(detached.completed) waited \(detached.waitedMs) ms, call \(Self.ms(detachSeconds))")
                #expect(detached.completed && !detached.pending)
                #expect(try !Self.macs(direct, guest.name, inactive: false).contains(nic.mac))
                let gone = try await NetTest.waitUntil(timeout: 10) { !((try? guest.guestMACs()) ?? [nic.mac]).contains(nic.mac) }
                #expect(gone != nil, "the guest still shows \(nic.mac)")

                // 2. A host bridge made through the agent; live and persistent, a given MAC.
                let bridge = scratch.link("hb")
                _ = try await client.createBridge(bridge)
                let bridgeMAC = "52:54:00:e2:00:01"
                let onBridge = try await client.attachInterface(
                    domain: guest.name, type: .bridge, source: bridge, mac: bridgeMAC, scope: [.live, .config])
                #expect(onBridge.type == .bridge && onBridge.source == bridge && onBridge.mac == bridgeMAC)
                #expect(try Self.macs(direct, guest.name, inactive: true).contains(bridgeMAC))
                let port = try #require(try await client.listLinks(kind: "tap").first { $0.name == onBridge.targetDev })
                #expect(port.master == bridge)
                #expect(port.tap.persistent == false)
                let busyBridge = await NetTest.error { try await client.deleteBridge(bridge) }
                #expect(busyBridge?.code == .failedPrecondition)
                #expect(busyBridge?.message.contains(onBridge.targetDev) == true)
                let busyTap = await NetTest.error { try await client.deleteTap(onBridge.targetDev) }
                #expect(busyTap?.code == .failedPrecondition)
                #expect(busyTap?.message.contains("not persistent") == true)
                let seenOnBridge = try await NetTest.waitUntil(timeout: 20) { ((try? guest.guestMACs()) ?? []).contains(bridgeMAC) }
                #expect(seenOnBridge != nil)
                let twice = await NetTest.error {
                    _ = try await client.attachInterface(domain: guest.name, type: .bridge, source: bridge, mac: bridgeMAC, scope: .live)
                }
                #expect(twice?.code == .alreadyExists)
                let bridgeDetach = try await client.detachInterface(domain: guest.name, mac: bridgeMAC, scope: [.live, .config])
                print("end-to-end: detach live+config bridge NIC: completed=\(bridgeDetach.completed) waited \(bridgeDetach.waitedMs) ms")
                #expect(bridgeDetach.completed)
                #expect(try !Self.macs(direct, guest.name, inactive: false).contains(bridgeMAC))
                #expect(try !Self.macs(direct, guest.name, inactive: true).contains(bridgeMAC))
                #expect(try await client.listLinks(kind: "bridge").first { $0.name == bridge }?.ports == [])
                try await client.deleteBridge(bridge)

                // 3. macvtap on a veth standing in for a NIC.
                let uplink = try scratch.veth("m1")
                try HostLinks.setUp(uplink, true)
                let macvtap = try await client.attachInterface(
                    domain: guest.name, type: .direct, source: uplink, directMode: "bridge", scope: .live)
                #expect(macvtap.type == .direct && macvtap.source == uplink && macvtap.directMode == "bridge")
                #expect(try HostLinks.find(macvtap.targetDev)?.kind == "macvtap")
                let seenMacvtap = try await NetTest.waitUntil(timeout: 20) { ((try? guest.guestMACs()) ?? []).contains(macvtap.mac) }
                #expect(seenMacvtap != nil)
                let macvtapDetach = try await client.detachInterface(domain: guest.name, mac: macvtap.mac, scope: .live)
                print("end-to-end: detach macvtap NIC: completed=\(macvtapDetach.completed) waited \(macvtapDetach.waitedMs) ms")
                #expect(macvtapDetach.completed)
                #expect(try HostLinks.find(macvtap.targetDev) == nil)

                // 3b. A NIC on a TAP made through the agent (tap add): libvirt opens it
                // (<target dev=TAP managed='no'/>), and detaching the NIC leaves the TAP.
                let tapName = scratch.link("tp")
                _ = try await client.createTap(tapName)
                let tapMAC = "52:54:00:e2:00:07"
                let (onTap, tapSeconds) = try await NetTest.timed {
                    try await client.attachInterface(domain: guest.name, type: .tap, source: tapName, mac: tapMAC, scope: .live)
                }
                #expect(onTap.type == .tap && onTap.source == tapName && onTap.rawType == "ethernet" && onTap.mac == tapMAC)
                let seenOnTap = try await NetTest.waitUntil(timeout: 20) { ((try? guest.guestMACs()) ?? []).contains(tapMAC) }
                print("end-to-end: attach NIC on TAP \(tapName): call \(Self.ms(tapSeconds)), in the guest after \(seenOnTap.map(Self.ms) ?? "never")")
                #expect(seenOnTap != nil, "the guest never showed \(tapMAC)")
                let tapDetach = try await client.detachInterface(domain: guest.name, mac: tapMAC, scope: .live)
                #expect(tapDetach.completed)
                let tapAfter = try HostLinks.find(tapName)
                #expect(tapAfter?.kind == "tap" && tapAfter?.tap?.persistent == true, "the TAP should stay: \(String(describing: tapAfter))")
                let noTap = await NetTest.error {
                    _ = try await client.attachInterface(domain: guest.name, type: .tap, source: scratch.link("nx"), scope: .live)
                }
                #expect(noTap?.code == .notFound)
                let notATap = await NetTest.error {
                    _ = try await client.attachInterface(domain: guest.name, type: .tap, source: uplink, scope: .live)
                }
                #expect(notATap?.code == .invalidArgument)
                try await client.deleteTap(tapName)

                // 4. Other models (the guest has virtio drivers only: check libvirt's view).
                for model in ["e1000e", "rtl8139"] {
                    let other = try await client.attachInterface(domain: guest.name, type: .network, source: network.name, model: model)
                    #expect(other.model == model)
                    let result = try await client.detachInterface(domain: guest.name, mac: other.mac)
                    print("end-to-end: detach \(model) NIC: completed=\(result.completed) waited \(result.waitedMs) ms")
                    #expect(result.completed || result.pending)
                }

                // 5. A guest that cannot answer (paused): the detach is pending, then completes.
                let paused = try await client.attachInterface(domain: guest.name, type: .network, source: network.name, scope: .live)
                _ = try await NetTest.waitUntil(timeout: 20) { ((try? guest.guestMACs()) ?? []).contains(paused.mac) }
                try Self.virsh(["suspend", guest.name])
                let pending = try await client.detachInterface(domain: guest.name, mac: paused.mac, scope: .live, timeout: .seconds(2))
                print("end-to-end: detach from a paused guest: completed=\(pending.completed) pending=\(pending.pending) waited \(pending.waitedMs) ms")
                #expect(pending.pending && !pending.completed)
                #expect(pending.waitedMs >= 1000 && pending.waitedMs < 2000)
                try Self.virsh(["resume", guest.name])
                let finished = try await NetTest.waitUntil(timeout: 15) { try !Self.macs(direct, guest.name, inactive: false).contains(paused.mac) }
                print("end-to-end: the pending detach finished \(finished.map(Self.ms) ?? "never") after resume")
                #expect(finished != nil)

                // 6. Networks a NIC cannot join here: clear errors, nothing attached.
                let before = try Self.macs(direct, guest.name, inactive: false)
                let vlanNet = try await client.defineNetwork(.with {
                    $0.name = scratch.network("vpt")
                    $0.macvtap = .with { $0.mode = .passthrough; $0.interfaces = [uplink]; $0.vlanTags = [100] }
                }, start: true)
                let vlanError = await NetTest.error {
                    _ = try await client.attachInterface(domain: guest.name, type: .network, source: vlanNet.name, scope: .live)
                }
                print("end-to-end: attach to a VLAN passthrough network -> \(vlanError?.description ?? "attached")")
                #expect(vlanError != nil)
                let ovsNet = try await client.defineNetwork(.with {
                    $0.name = scratch.network("ovs")
                    $0.ovs = .with { $0.bridge = scratch.link("ovb"); $0.vlanTags = [5] }
                })
                let ovsError = await NetTest.error {
                    _ = try await client.attachInterface(domain: guest.name, type: .network, source: ovsNet.name, scope: .live)
                }
                #expect(ovsError?.code == .failedPrecondition)
                #expect(ovsError?.message.contains("is not active") == true)
                _ = try await client.stopNetwork(network.name)
                let inactiveError = await NetTest.error {
                    _ = try await client.attachInterface(domain: guest.name, type: .network, source: network.name, scope: .live)
                }
                #expect(inactiveError?.code == .failedPrecondition)
                #expect(try Self.macs(direct, guest.name, inactive: false) == before)

                _ = try await client.destroyDomain(guest.name)
            }
        }
        #expect(await agent.stop() == 0)
    }

    @Test func persistentAttachAndBadInputOnAStoppedMachine() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "nicscfg")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await NetScratch.with { scratch in
            try await TestGuest.with { guest in
                let client = agent.client
                let direct = guest.connection
                _ = try await client.defineDomain(xml: guest.domainXML)
                let ovs = try await client.defineNetwork(.with {
                    $0.name = scratch.network("pg")
                    $0.ovs = .with {
                        $0.bridge = scratch.link("pgb")
                        $0.portGroups = [.with { $0.name = "web"; $0.vlanTags = [10] }]
                    }
                })

                // Neither --live nor --config on a stopped machine: its definition (virsh --current).
                let nic = try await client.attachInterface(
                    domain: guest.name, type: .network, source: guest.networkName, model: "rtl8139", mac: "52:54:00:E3:00:01")
                #expect(nic.mac == "52:54:00:e3:00:01" && nic.model == "rtl8139")
                #expect(try Self.macs(direct, guest.name, inactive: true).contains(nic.mac))
                let grouped = try await client.attachInterface(
                    domain: guest.name, type: .network, source: ovs.name, portgroup: "web", scope: .config)
                #expect(grouped.portgroup == "web")
                let listed = try await client.listInterfaces(domain: guest.name, inactive: true)
                #expect(listed.map(\.mac) == [guest.mac, nic.mac, grouped.mac])
                let before = try Self.macs(direct, guest.name, inactive: true)

                let failures: [(String, String, () async throws -> Void)] = [
                    ("INVALID_ARGUMENT", "not a MAC address", {
                        _ = try await client.attachInterface(domain: guest.name, type: .network, source: guest.networkName, mac: "52:54:00:e3:00")
                    }),
                    ("INVALID_ARGUMENT", "multicast", {
                        _ = try await client.attachInterface(domain: guest.name, type: .network, source: guest.networkName, mac: "01:54:00:e3:00:09")
                    }),
                    ("ALREADY_EXISTS", "already has a NIC with MAC", {
                        _ = try await client.attachInterface(domain: guest.name, type: .network, source: guest.networkName, mac: guest.mac)
                    }),
                    ("INVALID_ARGUMENT", "model", {
                        _ = try await client.attachInterface(domain: guest.name, type: .network, source: guest.networkName, model: "ne2k")
                    }),
                    ("FAILED_PRECONDITION", "is not running", {
                        _ = try await client.attachInterface(domain: guest.name, type: .network, source: guest.networkName, scope: .live)
                    }),
                    ("NOT_FOUND", "does not exist", {
                        _ = try await client.attachInterface(domain: guest.name, type: .bridge, source: scratch.link("nob"))
                    }),
                    ("NOT_FOUND", "does not exist", {
                        _ = try await client.attachInterface(domain: guest.name, type: .direct, source: scratch.link("nod"))
                    }),
                    ("NOT_FOUND", "no network", {
                        _ = try await client.attachInterface(domain: guest.name, type: .network, source: TestBed.prefix + "nonet")
                    }),
                    ("INVALID_ARGUMENT", "is not a hostdev network", {
                        _ = try await client.attachInterface(domain: guest.name, type: .hostdev, source: guest.networkName)
                    }),
                    ("NOT_FOUND", "has no port group 'db'", {
                        _ = try await client.attachInterface(domain: guest.name, type: .network, source: ovs.name, portgroup: "db")
                    }),
                    ("INVALID_ARGUMENT", "direct_mode", {
                        _ = try await client.attachInterface(domain: guest.name, type: .direct, source: "lo", directMode: "fast")
                    }),
                    ("NOT_FOUND", "has no NIC with MAC", {
                        _ = try await client.detachInterface(domain: guest.name, mac: "52:54:00:e3:00:99")
                    }),
                    ("INVALID_ARGUMENT", "not a MAC address", {
                        _ = try await client.detachInterface(domain: guest.name, mac: "nope")
                    }),
                ]
                for (code, text, call) in failures {
                    let error = await NetTest.error(call)
                    #expect(error?.codeName == code, "\(text): \(error?.description ?? "succeeded")")
                    #expect(error?.message.contains(text) == true, "\(error?.message ?? "")")
                }
                #expect(try Self.macs(direct, guest.name, inactive: true) == before)

                // The CLI, for real: attach and detach the persistent definition.
                let attached = try NetTest.cli(agent.socketPath, [
                    "iface", "attach", guest.name, "--network", guest.networkName, "--model", "e1000e", "--mac", "52:54:00:e3:00:02", "--config",
                ])
                #expect(attached.contains("52:54:00:e3:00:02 (e1000e) attached to network '\(guest.networkName)'"))
                let detached = try NetTest.cli(agent.socketPath, ["iface", "detach", guest.name, "--mac", "52:54:00:e3:00:02", "--config"])
                #expect(detached.contains("detached"))

                for mac in [nic.mac, grouped.mac] {
                    let result = try await client.detachInterface(domain: guest.name, mac: mac, scope: .config)
                    #expect(result.completed && result.waitedMs == 0)
                }
                #expect(try Self.macs(direct, guest.name, inactive: true) == [guest.mac])
            }
        }
        #expect(await agent.stop() == 0)
    }

    /// Pauses or resumes the guest (the binding has no suspend; a test-only need).
    static func virsh(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/virsh")
        process.arguments = ["-q", "-c", TestBed.uri] + arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestBedError("virsh \(arguments.joined(separator: " ")) failed") }
    }
}
