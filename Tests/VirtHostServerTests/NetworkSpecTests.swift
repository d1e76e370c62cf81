import Foundation
import LibXML
import GRPCCore
import Testing
import VirtHostClient
@testable import VirtHostServer

/// Typed network specs: the XML they make, read back, and the input they refuse.
@Suite struct NetworkSpecTests {
    static func spec(_ name: String, _ configure: (inout Virthost_V1_NetworkSpec) -> Void) -> Virthost_V1_NetworkSpec {
        var spec = Virthost_V1_NetworkSpec()
        spec.name = name
        configure(&spec)
        return spec
    }

    static func ip(_ address: String, _ prefix: UInt32, ranges: [(String, String)] = [], hosts: [(String, String, String)] = []) -> Virthost_V1_NetworkIP {
        .with {
            $0.address = address
            $0.prefix = prefix
            $0.dhcpRanges = ranges.map { r in .with { $0.start = r.0; $0.end = r.1 } }
            $0.dhcpHosts = hosts.map { h in .with { $0.mac = h.0; $0.ip = h.1; $0.hostname = h.2 } }
        }
    }

    /// One spec of every kind, with most fields set.
    static let everyKind: [Virthost_V1_NetworkSpec] = [
        spec("iso") {
            $0.isolated = .init()
            $0.bridgeName = "virbr-iso"
            $0.mtu = 9000
            $0.domain = "lab.example"
            $0.uuid = "6a3ed1d4-1b1d-4c5e-9d6e-0c2f5b5e0b01"
            $0.ips = [
                ip("192.0.2.1", 24, ranges: [("192.0.2.100", "192.0.2.199")], hosts: [("52:54:00:00:00:01", "192.0.2.10", "web-1")]),
                ip("2001:db8:1::1", 64, ranges: [("2001:db8:1::100", "2001:db8:1::1ff")], hosts: [("", "2001:db8:1::10", "web-1")]),
            ]
        },
        spec("nat") {
            $0.nat = .with { $0.dev = "eth0"; $0.portStart = 1024; $0.portEnd = 65535 }
            $0.ips = [ip("198.51.100.1", 24, ranges: [("198.51.100.10", "198.51.100.20")])]
        },
        spec("routed") {
            $0.routed = .with { $0.dev = "eth0" }
            $0.bridgeName = "virbr-rt"
            $0.ips = [ip("203.0.113.1", 26)]
        },
        spec("bridged") { $0.bridged = .with { $0.bridge = "br0" } },
        spec("macvtap") { $0.macvtap = .with { $0.mode = .vepa; $0.interfaces = ["eth1", "eth2"] } },
        spec("passthru") { $0.macvtap = .with { $0.mode = .passthrough; $0.interfaces = ["eth3"]; $0.vlanTags = [42] } },
        spec("vfs") { $0.hostdev = .with { $0.pciAddresses = ["0000:03:10.1", "0000:03:10.3"]; $0.unmanaged = true } },
        spec("pf") { $0.hostdev = .with { $0.pf = "eth4"; $0.vlanTags = [7] } },
        spec("ovs") {
            $0.ovs = .with {
                $0.bridge = "ovsbr0"
                $0.vlanTags = [10, 20]
                $0.portGroups = [
                    .with { $0.name = "web"; $0.isDefault = true; $0.vlanTags = [10] },
                    .with { $0.name = "trunk"; $0.vlanTags = [10, 20] },
                ]
            }
        },
    ]

    @Test(arguments: everyKind)
    func everyKindReadsBackAsTheSameSpec(_ spec: Virthost_V1_NetworkSpec) throws {
        try NetworkSpecXML.validate(spec)
        let xml = try NetworkSpecXML.xml(spec)
        var back = try NetworkSpecXML.spec(fromXML: xml)
        // libvirt's readback may reformat; ours is exact.
        if spec.uuid.isEmpty { back.uuid = "" }
        #expect(back == spec, "\(xml)")
    }

    @Test func xmlHasLibvirtsShapes() throws {
        func reader(_ name: String) throws -> XMLReader {
            try XMLReader(try NetworkSpecXML.xml(Self.everyKind.first { $0.name == name }!))
        }
        let iso = try reader("iso")
        #expect(iso.elements("/network/forward").isEmpty)
        #expect(iso.string("/network/bridge/@name") == "virbr-iso")
        #expect(iso.string("/network/mtu/@size") == "9000")
        #expect(iso.string("/network/ip[@family='ipv6']/@prefix") == "64")
        #expect(iso.string("/network/ip[1]/dhcp/host/@mac") == "52:54:00:00:00:01")
        #expect(iso.string("/network/ip[2]/dhcp/host/@name") == "web-1")
        #expect(iso.string("/network/ip[2]/dhcp/host/@mac") == nil)
        let nat = try reader("nat")
        #expect(nat.string("/network/forward/@mode") == "nat")
        #expect(nat.string("/network/forward/@dev") == "eth0")
        #expect(nat.string("/network/forward/nat/port/@start") == "1024")
        let bridged = try reader("bridged")
        #expect(bridged.string("/network/forward/@mode") == "bridge")
        #expect(bridged.string("/network/bridge/@name") == "br0")
        #expect(bridged.elements("/network/ip").isEmpty)
        let macvtap = try reader("macvtap")
        #expect(macvtap.string("/network/forward/@mode") == "vepa")
        #expect(macvtap.elements("/network/forward/interface").compactMap { $0.attr("dev") } == ["eth1", "eth2"])
        let vfs = try reader("vfs")
        #expect(vfs.string("/network/forward/@managed") == "no")
        #expect(vfs.string("/network/forward/address[2]/@function") == "0x3")
        #expect(vfs.string("/network/forward/address[1]/@slot") == "0x10")
        let ovs = try reader("ovs")
        #expect(ovs.string("/network/virtualport/@type") == "openvswitch")
        #expect(ovs.string("/network/vlan/@trunk") == "yes")
        #expect(ovs.string("/network/portgroup[@name='web']/@default") == "yes")
        #expect(ovs.string("/network/portgroup[@name='web']/vlan/tag/@id") == "10")
    }

    @Test func metacharactersAreEscapedNeverInterpolated() throws {
        // The name check refuses them; the builder escapes whatever reaches it.
        let spec = Self.spec("a") { $0.isolated = .init(); $0.domain = "x" }
        var hostile = spec
        hostile.name = "x'/><forward mode='nat'/><name>y"
        let xml = try NetworkSpecXML.xml(hostile)
        let reader = try XMLReader(xml)
        #expect(reader.string("/network/name") == hostile.name)
        #expect(reader.elements("/network/forward").isEmpty)
    }

    static let badSpecs: [(String, Virthost_V1_NetworkSpec)] = [
        ("network name", spec("bad<name") { $0.isolated = .init() }),
        ("network name", spec("quote'name") { $0.isolated = .init() }),
        ("network name", spec("amp&name") { $0.isolated = .init() }),
        ("longer than 64", spec(String(repeating: "n", count: 65)) { $0.isolated = .init() }),
        ("network name is empty", spec("") { $0.isolated = .init() }),
        ("has no kind", spec("nokind") { _ in }),
        ("longer than 15", spec("b") { $0.isolated = .init(); $0.bridgeName = "a-very-long-bridge-name" }),
        ("bridge_name is for", spec("b") { $0.bridged = .with { $0.bridge = "br0" }; $0.bridgeName = "virbr9" }),
        ("ips are for", spec("b") { $0.bridged = .with { $0.bridge = "br0" }; $0.ips = [ip("192.0.2.1", 24)] }),
        ("bridged.bridge is empty", spec("b") { $0.bridged = .init() }),
        ("not an IPv4 or IPv6", spec("b") { $0.isolated = .init(); $0.ips = [ip("192.0.2.300", 24)] }),
        ("outside 1-32", spec("b") { $0.isolated = .init(); $0.ips = [ip("192.0.2.1", 33)] }),
        ("network or broadcast", spec("b") { $0.isolated = .init(); $0.ips = [ip("192.0.2.0", 24)] }),
        ("overlap", spec("b") { $0.isolated = .init(); $0.ips = [ip("192.0.2.1", 24), ip("192.0.2.129", 25)] }),
        ("not inside", spec("b") { $0.isolated = .init(); $0.ips = [ip("192.0.2.1", 24, ranges: [("192.0.3.1", "192.0.3.9")])] }),
        ("ends before", spec("b") { $0.isolated = .init(); $0.ips = [ip("192.0.2.1", 24, ranges: [("192.0.2.9", "192.0.2.2")])] }),
        ("own address", spec("b") { $0.isolated = .init(); $0.ips = [ip("192.0.2.1", 24, ranges: [("192.0.2.1", "192.0.2.9")])] }),
        ("not a MAC", spec("b") { $0.isolated = .init(); $0.ips = [ip("192.0.2.1", 24, hosts: [("52:54:00:zz:00:01", "192.0.2.5", "")])] }),
        ("multicast", spec("b") { $0.isolated = .init(); $0.ips = [ip("192.0.2.1", 24, hosts: [("01:00:5e:00:00:01", "192.0.2.5", "")])] }),
        ("needs the client's MAC", spec("b") { $0.isolated = .init(); $0.ips = [ip("192.0.2.1", 24, hosts: [("", "192.0.2.5", "h")])] }),
        ("refuses a MAC", spec("b") { $0.isolated = .init(); $0.ips = [ip("2001:db8::1", 64, hosts: [("52:54:00:00:00:01", "2001:db8::5", "h")])] }),
        ("listed twice", spec("b") {
            $0.isolated = .init()
            $0.ips = [ip("192.0.2.1", 24, hosts: [("52:54:00:00:00:01", "192.0.2.5", ""), ("52:54:00:00:00:01", "192.0.2.6", "")])]
        }),
        ("one block per family", spec("b") {
            $0.isolated = .init()
            $0.ips = [ip("192.0.2.1", 24, ranges: [("192.0.2.5", "192.0.2.6")]), ip("198.51.100.1", 24, ranges: [("198.51.100.5", "198.51.100.6")])]
        }),
        ("not a DNS name", spec("b") { $0.isolated = .init(); $0.domain = "bad domain" }),
        ("outside 68-65535", spec("b") { $0.isolated = .init(); $0.mtu = 10 }),
        ("nat port range", spec("b") { $0.nat = .with { $0.portStart = 2000; $0.portEnd = 1000 } }),
        ("interfaces is empty", spec("b") { $0.macvtap = .init() }),
        ("needs mode passthrough", spec("b") { $0.macvtap = .with { $0.interfaces = ["eth0"]; $0.vlanTags = [5] } }),
        ("names an interface twice", spec("b") { $0.macvtap = .with { $0.interfaces = ["eth0", "eth0"] } }),
        ("needs pci_addresses or pf", spec("b") { $0.hostdev = .init() }),
        ("not both", spec("b") { $0.hostdev = .with { $0.pf = "eth0"; $0.pciAddresses = ["0000:03:10.1"] } }),
        ("is not DDDD:BB:SS.F", spec("b") { $0.hostdev = .with { $0.pciAddresses = ["0000:03:40.1"] } }),
        ("is not DDDD:BB:SS.F", spec("b") { $0.hostdev = .with { $0.pciAddresses = ["eth0"] } }),
        ("outside 0-4095", spec("b") { $0.ovs = .with { $0.bridge = "ovsbr0"; $0.vlanTags = [5000] } }),
        ("more than one port group", spec("b") {
            $0.ovs = .with {
                $0.bridge = "ovsbr0"
                $0.portGroups = [.with { $0.name = "a"; $0.isDefault = true }, .with { $0.name = "b"; $0.isDefault = true }]
            }
        }),
        ("named twice", spec("b") { $0.ovs = .with { $0.bridge = "ovsbr0"; $0.portGroups = [.with { $0.name = "a" }, .with { $0.name = "a" }] } }),
        ("uuid", spec("b") { $0.isolated = .init(); $0.uuid = "not-a-uuid" }),
    ]

    @Test(arguments: badSpecs)
    func badSpecsAreRefusedWithAClearMessage(_ expected: String, _ spec: Virthost_V1_NetworkSpec) {
        do {
            try NetworkSpecXML.validate(spec)
            Issue.record("accepted: \(spec)")
        } catch let convertible as any RPCErrorConvertible {
            let error = RPCError(convertible)
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(expected), "message: \(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func blocksOverlapAndContain() throws {
        let a = IPBlock(address: IPAddress("192.0.2.1")!, prefix: 24)
        #expect(a.overlaps(IPBlock(address: IPAddress("192.0.2.200")!, prefix: 30)))
        #expect(a.overlaps(IPBlock(address: IPAddress("192.0.0.1")!, prefix: 16)))
        #expect(!a.overlaps(IPBlock(address: IPAddress("192.0.3.1")!, prefix: 24)))
        #expect(!a.overlaps(IPBlock(address: IPAddress("2001:db8::1")!, prefix: 64)))
        #expect(a.subnet == "192.0.2.0/24")
        let v6 = IPBlock(address: IPAddress("2001:db8:1::1")!, prefix: 64)
        #expect(v6.contains(IPAddress("2001:db8:1::ffff")!))
        #expect(!v6.contains(IPAddress("2001:db8:2::1")!))
        #expect(v6.overlaps(IPBlock(address: IPAddress("2001:db8::1")!, prefix: 32)))
        #expect(IPAddress("2001:DB8::0001")?.description == "2001:db8::1")
        #expect(IPAddress("1.2.3") == nil)
    }

    @Test func uplinksNameWhatANetworkNeedsOnTheHost() throws {
        func uplinks(_ name: String) throws -> [NetworkXML.Uplink] {
            try NetworkXML.uplinks(try NetworkSpecXML.xml(Self.everyKind.first { $0.name == name }!))
        }
        #expect(try uplinks("iso") == [])
        #expect(try uplinks("nat") == [.device("eth0", role: "outgoing device")])
        #expect(try uplinks("bridged") == [.bridge("br0")])
        #expect(try uplinks("macvtap") == [.device("eth1", role: "macvtap interface"), .device("eth2", role: "macvtap interface")])
        #expect(try uplinks("pf") == [.device("eth4", role: "SR-IOV physical function")])
        #expect(try uplinks("vfs") == [])
        #expect(try uplinks("ovs") == [.ovsBridge("ovsbr0")])
    }

    @Test func detachWaitsUntilShortlyBeforeTheDeadline() {
        #expect(DeviceRemoval.budget(deadline: nil) == .seconds(10))
        #expect(DeviceRemoval.budget(deadline: .seconds(3)) == .milliseconds(2500))
        #expect(DeviceRemoval.budget(deadline: .milliseconds(1000)) == .milliseconds(800))
    }
}

/// NetworkService over a socket, against the test driver's demo host.
@Suite struct NetworkServiceTests {
    @Test func defineStartStopAutostartUndefineFromASpec() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let spec = NetworkSpecTests.spec("lab") {
                $0.isolated = .init()
                $0.bridgeName = "virbr-lab"
                $0.ips = [NetworkSpecTests.ip("10.99.0.1", 24, ranges: [("10.99.0.100", "10.99.0.199")])]
            }
            let defined = try await client.defineNetwork(spec)
            #expect(defined.name == "lab")
            #expect(!defined.active)
            #expect(defined.persistent)
            #expect(defined.forwardMode == .isolated)
            #expect(defined.addresses == ["10.99.0.1/24"])
            var back = defined.spec
            back.uuid = ""
            #expect(back == spec)
            #expect(try await client.startNetwork("lab").active)
            #expect(try await client.setNetworkAutostart("lab", true).autostart)
            #expect(try await client.setNetworkAutostart("lab", false).autostart == false)
            #expect(try await client.stopNetwork("lab").active == false)
            try await client.undefineNetwork("lab")
            #expect(try await client.listNetworks().map(\.name).contains("lab") == false)
        }
    }

    @Test func defineWithStartAndAutostart() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let n = try await client.defineNetwork(
                NetworkSpecTests.spec("out") {
                    $0.nat = .init()
                    $0.ips = [NetworkSpecTests.ip("10.98.0.1", 24)]
                }, start: true, autostart: true)
            #expect(n.active && n.autostart && n.forwardMode == .nat)
        }
    }

    @Test func duplicatesAndOverlapsAreRefusedAndNothingIsDefined() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let before = try await client.listNetworks().map(\.name)
            // demo-nat exists, and holds 192.0.2.0/24.
            let duplicate = await DaemonHarness.error {
                _ = try await client.defineNetwork(NetworkSpecTests.spec("demo-nat") { $0.isolated = .init() })
            }
            #expect(duplicate?.code == .alreadyExists)
            #expect(duplicate?.message.contains("already exists") == true)
            let overlap = await DaemonHarness.error {
                _ = try await client.defineNetwork(NetworkSpecTests.spec("clash") {
                    $0.isolated = .init()
                    $0.ips = [NetworkSpecTests.ip("192.0.2.129", 25)]
                })
            }
            #expect(overlap?.code == .failedPrecondition)
            #expect(overlap?.message.contains("overlaps 192.0.2.0/24 of network 'demo-nat'") == true)
            let bridgeTaken = await DaemonHarness.error {
                _ = try await client.defineNetwork(NetworkSpecTests.spec("clash") { $0.isolated = .init(); $0.bridgeName = "virbr-demo0" })
            }
            #expect(bridgeTaken?.code == .alreadyExists)
            let badXML = await DaemonHarness.error {
                _ = try await client.defineNetwork(xml: "<network><name>x&lt;y</name></network>")
            }
            #expect(badXML?.code == .invalidArgument)
            let overlapXML = await DaemonHarness.error {
                _ = try await client.defineNetwork(xml: "<network><name>clash</name><ip address='198.51.100.7' netmask='255.255.255.0'/></network>")
            }
            #expect(overlapXML?.code == .failedPrecondition)
            let badMAC = await DaemonHarness.error {
                _ = try await client.addDhcpHost(network: "demo-nat", .with { $0.mac = "52:54:00:00:0a"; $0.ip = "192.0.2.20" })
            }
            #expect(badMAC?.code == .invalidArgument)
            #expect(try await client.listNetworks().map(\.name) == before)
        }
    }

    @Test func rawXMLIsTheEscapeHatch() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let n = try await client.defineNetwork(
                xml: "<network><name>raw</name><forward mode='open'/><bridge name='virbr-raw'/><ip address='10.97.0.1' prefix='24'/></network>")
            #expect(n.forwardMode == .open)
            #expect(n.addresses == ["10.97.0.1/24"])
        }
    }

    @Test func dhcpHostsAddAndRemoveOnARunningNetwork() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let host = Virthost_V1_DhcpHost.with {
                $0.mac = "52:54:00:00:0A:02"
                $0.ip = "192.0.2.11"
                $0.hostname = "web-2"
            }
            #expect(try await client.network("demo-nat").active)
            let added = try await client.addDhcpHost(network: "demo-nat", host)
            #expect(added.spec.ips.first?.dhcpHosts.contains { $0.mac == "52:54:00:00:0a:02" && $0.ip == "192.0.2.11" } == true)
            let twice = await DaemonHarness.error { _ = try await client.addDhcpHost(network: "demo-nat", host) }
            #expect(twice?.code == .alreadyExists)
            let outside = await DaemonHarness.error {
                _ = try await client.addDhcpHost(network: "demo-nat", .with { $0.mac = "52:54:00:00:0a:03"; $0.ip = "10.0.0.5" })
            }
            #expect(outside?.code == .invalidArgument)
            let removed = try await client.removeDhcpHost(network: "demo-nat", host)
            #expect(removed.spec.ips.first?.dhcpHosts.contains { $0.mac == "52:54:00:00:0a:02" } == false)
            let gone = await DaemonHarness.error { _ = try await client.removeDhcpHost(network: "demo-nat", host) }
            #expect(gone?.code == .notFound)
        }
    }
}
