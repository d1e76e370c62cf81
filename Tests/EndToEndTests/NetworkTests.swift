import Foundation
import LibXML
import HostNetworking
import Libvirt
import Testing
import VirtHostClient

/// Every network kind through a real virthostd on qemu:///system: the XML
/// libvirt keeps, read back field by field; the kinds this host can run
/// started for real; the ones it cannot give a clear error, no hang.
@Suite(.serialized, .enabled(if: TestBed.shouldRun, "needs root, libvirtd and the test guest; make test sets them up"))
struct NetworkTests {
    static func ip(_ address: String, _ prefix: UInt32, ranges: [(String, String)] = [], hosts: [(String, String, String)] = [])
        -> Virthost_V1_NetworkIP
    {
        .with {
            $0.address = address
            $0.prefix = prefix
            $0.dhcpRanges = ranges.map { r in .with { $0.start = r.0; $0.end = r.1 } }
            $0.dhcpHosts = hosts.map { h in .with { $0.mac = h.0; $0.ip = h.1; $0.hostname = h.2 } }
        }
    }

    /// libvirt's persistent XML of a network, for XPath checks.
    static func xml(_ connection: Connection, _ name: String, inactive: Bool = true) throws -> XMLDocument {
        try XMLDocument(xmlString: try connection.lookupNetwork(name: name).xml(inactive: inactive), options: [])
    }

    static func value(_ document: XMLDocument, _ xpath: String) -> String? {
        (try? document.nodes(forXPath: xpath))?.first?.stringValue
    }

    static func values(_ document: XMLDocument, _ xpath: String) -> [String] {
        ((try? document.nodes(forXPath: xpath)) ?? []).compactMap(\.stringValue)
    }

    /// The spec the agent reads back, without what libvirt fills in by itself.
    static func comparable(_ spec: Virthost_V1_NetworkSpec) -> Virthost_V1_NetworkSpec {
        var spec = spec
        spec.uuid = ""
        return spec
    }

    @Test func kindsThisHostRunsStartForReal() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "nets")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await NetScratch.with { scratch in
            let client = agent.client
            let direct = scratch.connection
            let uplink = try scratch.veth("u1")  // stands in for a NIC
            try HostLinks.setUp(uplink, true)

            // Isolated, IPv4 and IPv6, DHCP ranges and static hosts, MTU, domain.
            let isolated = Virthost_V1_NetworkSpec.with {
                $0.name = scratch.network("iso")
                $0.bridgeName = scratch.libvirtBridge("i")
                $0.mtu = 1400
                $0.domain = "vht.test"
                $0.isolated = .init()
                $0.ips = [
                    Self.ip("10.231.1.1", 24, ranges: [("10.231.1.100", "10.231.1.199")], hosts: [("52:54:00:e1:00:01", "10.231.1.10", "h1")]),
                    Self.ip("fd31:231:1::1", 64, ranges: [("fd31:231:1::100", "fd31:231:1::1ff")], hosts: [("", "fd31:231:1::10", "h1")]),
                ]
            }
            // NAT through a given device, with a port range.
            let nat = Virthost_V1_NetworkSpec.with {
                $0.name = scratch.network("nat")
                $0.bridgeName = scratch.libvirtBridge("n")
                $0.nat = .with { $0.dev = uplink; $0.portStart = 1024; $0.portEnd = 65535 }
                $0.ips = [Self.ip("10.231.2.1", 24, ranges: [("10.231.2.10", "10.231.2.20")])]
            }
            // Routed out of a device.
            let routed = Virthost_V1_NetworkSpec.with {
                $0.name = scratch.network("rt")
                $0.bridgeName = scratch.libvirtBridge("r")
                $0.routed = .with { $0.dev = uplink }
                $0.ips = [Self.ip("10.231.3.1", 26)]
            }
            // Bridged to a host bridge made through the agent.
            let hostBridge = scratch.link("br3")
            _ = try await client.createBridge(hostBridge)
            let bridged = Virthost_V1_NetworkSpec.with {
                $0.name = scratch.network("brd")
                $0.bridged = .with { $0.bridge = hostBridge }
            }
            // macvtap over the stand-in NIC.
            let macvtap = Virthost_V1_NetworkSpec.with {
                $0.name = scratch.network("mvt")
                $0.macvtap = .with { $0.mode = .bridge; $0.interfaces = [uplink] }
            }

            for spec in [isolated, nat, routed, bridged, macvtap] {
                let (defined, seconds) = try await NetTest.timed { try await client.defineNetwork(spec, start: true) }
                print("end-to-end: network \(spec.name) defined and started in \(String(format: "%.2f", seconds)) s")
                #expect(defined.active, "\(spec.name)")
                #expect(defined.persistent)
                #expect(Self.comparable(defined.spec) == spec, "\(spec.name) read back as \(defined.spec)")
                let network = try direct.lookupNetwork(name: spec.name)
                #expect(try network.isActive())
                #expect(try network.uuid() == defined.uuid)
            }

            // Field by field, in libvirt's own XML.
            let iso = try Self.xml(direct, isolated.name)
            #expect(Self.value(iso, "/network/forward") == nil)
            #expect(Self.value(iso, "/network/bridge/@name") == isolated.bridgeName)
            #expect(Self.value(iso, "/network/mtu/@size") == "1400")
            #expect(Self.value(iso, "/network/domain/@name") == "vht.test")
            #expect(Self.value(iso, "/network/ip[1]/@address") == "10.231.1.1")
            #expect(Self.value(iso, "/network/ip[1]/@prefix") == "24")
            #expect(Self.value(iso, "/network/ip[1]/dhcp/range/@start") == "10.231.1.100")
            #expect(Self.value(iso, "/network/ip[1]/dhcp/range/@end") == "10.231.1.199")
            #expect(Self.value(iso, "/network/ip[1]/dhcp/host/@mac") == "52:54:00:e1:00:01")
            #expect(Self.value(iso, "/network/ip[1]/dhcp/host/@ip") == "10.231.1.10")
            #expect(Self.value(iso, "/network/ip[1]/dhcp/host/@name") == "h1")
            #expect(Self.value(iso, "/network/ip[2]/@family") == "ipv6")
            #expect(Self.value(iso, "/network/ip[2]/@address") == "fd31:231:1::1")
            #expect(Self.value(iso, "/network/ip[2]/@prefix") == "64")
            #expect(Self.value(iso, "/network/ip[2]/dhcp/range/@start") == "fd31:231:1::100")
            #expect(Self.value(iso, "/network/ip[2]/dhcp/host/@name") == "h1")
            #expect(Self.value(iso, "/network/ip[2]/dhcp/host/@ip") == "fd31:231:1::10")
            let natXML = try Self.xml(direct, nat.name)
            #expect(Self.value(natXML, "/network/forward/@mode") == "nat")
            #expect(Self.value(natXML, "/network/forward/@dev") == uplink)
            #expect(Self.value(natXML, "/network/forward/nat/port/@start") == "1024")
            #expect(Self.value(natXML, "/network/forward/nat/port/@end") == "65535")
            let rtXML = try Self.xml(direct, routed.name)
            #expect(Self.value(rtXML, "/network/forward/@mode") == "route")
            #expect(Self.value(rtXML, "/network/forward/@dev") == uplink)
            #expect(Self.value(rtXML, "/network/ip/@prefix") == "26")
            let brXML = try Self.xml(direct, bridged.name)
            #expect(Self.value(brXML, "/network/forward/@mode") == "bridge")
            #expect(Self.value(brXML, "/network/bridge/@name") == hostBridge)
            let mvXML = try Self.xml(direct, macvtap.name)
            #expect(Self.value(mvXML, "/network/forward/@mode") == "bridge")
            #expect(Self.values(mvXML, "/network/forward/interface/@dev") == [uplink])

            // The host side: libvirt's bridges exist, with the MTU asked for.
            let isoBridge = try #require(try HostLinks.find(isolated.bridgeName))
            #expect(isoBridge.kind == "bridge" && isoBridge.mtu == 1400)
            #expect(try HostLinks.find(nat.bridgeName)?.kind == "bridge")
            #expect(try HostLinks.find(routed.bridgeName)?.kind == "bridge")
            let summaries = try await client.listNetworks(activeOnly: true)
            #expect(summaries.first { $0.name == bridged.name }?.forwardMode == .bridge)
            #expect(summaries.first { $0.name == macvtap.name }?.forwardMode == .macvtap)
            #expect(summaries.first { $0.name == isolated.name }?.addresses == ["10.231.1.1/24", "fd31:231:1::1/64"])

            // DHCP on the running isolated network: no leases yet; static hosts live and persistent.
            #expect(try await client.dhcpLeases(network: isolated.name).isEmpty)
            let host = Virthost_V1_DhcpHost.with {
                $0.mac = "52:54:00:e1:00:02"
                $0.ip = "10.231.1.11"
                $0.hostname = "h2"
            }
            _ = try await client.addDhcpHost(network: isolated.name, host)
            for inactive in [false, true] {
                let document = try Self.xml(direct, isolated.name, inactive: inactive)
                #expect(Self.values(document, "/network/ip[1]/dhcp/host/@mac") == ["52:54:00:e1:00:01", "52:54:00:e1:00:02"])
            }
            let v6Host = Virthost_V1_DhcpHost.with {
                $0.ip = "fd31:231:1::11"
                $0.hostname = "h3"
            }
            _ = try await client.addDhcpHost(network: isolated.name, v6Host)
            #expect(Self.values(try Self.xml(direct, isolated.name, inactive: false), "/network/ip[2]/dhcp/host/@name") == ["h1", "h3"])
            _ = try await client.removeDhcpHost(network: isolated.name, host)
            _ = try await client.removeDhcpHost(network: isolated.name, v6Host)
            for inactive in [false, true] {
                let document = try Self.xml(direct, isolated.name, inactive: inactive)
                #expect(Self.values(document, "/network/ip[1]/dhcp/host/@mac") == ["52:54:00:e1:00:01"])
                #expect(Self.values(document, "/network/ip[2]/dhcp/host/@name") == ["h1"])
            }

            // Autostart on and off, as libvirt sees it.
            _ = try await client.setNetworkAutostart(nat.name, true)
            #expect(try direct.lookupNetwork(name: nat.name).autostart())
            _ = try await client.setNetworkAutostart(nat.name, false)
            #expect(try direct.lookupNetwork(name: nat.name).autostart() == false)

            // Stop: libvirt removes its bridges; start again; undefine.
            let again = await NetTest.error { _ = try await client.startNetwork(isolated.name) }
            #expect(again?.code == .failedPrecondition)
            _ = try await client.stopNetwork(isolated.name)
            #expect(try HostLinks.find(isolated.bridgeName) == nil)
            #expect(try await client.startNetwork(isolated.name).active)
            for spec in [isolated, nat, routed, bridged, macvtap] {
                _ = try await client.stopNetwork(spec.name)
                try await client.undefineNetwork(spec.name)
            }
            // The host bridge stays: the network only used it.
            #expect(try HostLinks.find(hostBridge)?.kind == "bridge")
            try await client.deleteBridge(hostBridge)
        }
        #expect(try NetTest.leftovers(try Connection.open(TestBed.uri)) == [])
        #expect(await agent.stop() == 0)
    }

    @Test func kindsThisHostCannotRunDefineAndFailClearlyOnStart() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "netsno")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await NetScratch.with { scratch in
            let client = agent.client
            let direct = scratch.connection
            let pf = try scratch.veth("f1")  // a device with no virtual functions

            // Open vSwitch: VLAN trunk and port groups.
            let ovs = Virthost_V1_NetworkSpec.with {
                $0.name = scratch.network("ovs")
                $0.ovs = .with {
                    $0.bridge = scratch.link("ovs")
                    $0.vlanTags = [10, 20]
                    $0.portGroups = [
                        .with { $0.name = "web"; $0.isDefault = true; $0.vlanTags = [10] },
                        .with { $0.name = "db"; $0.vlanTags = [20] },
                    ]
                }
            }
            // hostdev by physical function, with a VLAN.
            let hostdevPF = Virthost_V1_NetworkSpec.with {
                $0.name = scratch.network("pf")
                $0.hostdev = .with { $0.pf = pf; $0.vlanTags = [30] }
            }
            // macvtap over a VLAN interface and over a bond: neither can exist here.
            let overVlan = Virthost_V1_NetworkSpec.with {
                $0.name = scratch.network("ovl")
                $0.macvtap = .with { $0.mode = .bridge; $0.interfaces = [scratch.link("v100")] }
            }
            let overBond = Virthost_V1_NetworkSpec.with {
                $0.name = scratch.network("obd")
                $0.macvtap = .with { $0.mode = .vepa; $0.interfaces = [scratch.link("bd0")] }
            }
            // A guest-transparent VLAN: macvtap passthrough with a tag.
            let vlanPassthrough = Virthost_V1_NetworkSpec.with {
                $0.name = scratch.network("vpt")
                $0.macvtap = .with { $0.mode = .passthrough; $0.interfaces = [pf]; $0.vlanTags = [100] }
            }

            for spec in [ovs, hostdevPF, overVlan, overBond, vlanPassthrough] {
                let defined = try await client.defineNetwork(spec)
                #expect(Self.comparable(defined.spec) == spec, "\(spec.name) read back as \(defined.spec)")
                #expect(!defined.active)
            }
            let ovsXML = try Self.xml(direct, ovs.name)
            #expect(Self.value(ovsXML, "/network/forward/@mode") == "bridge")
            #expect(Self.value(ovsXML, "/network/bridge/@name") == ovs.ovs.bridge)
            #expect(Self.value(ovsXML, "/network/virtualport/@type") == "openvswitch")
            #expect(Self.value(ovsXML, "/network/vlan/@trunk") == "yes")
            #expect(Self.values(ovsXML, "/network/vlan/tag/@id") == ["10", "20"])
            #expect(Self.values(ovsXML, "/network/portgroup/@name") == ["web", "db"])
            #expect(Self.value(ovsXML, "/network/portgroup[@name='web']/@default") == "yes")
            #expect(Self.value(ovsXML, "/network/portgroup[@name='db']/vlan/tag/@id") == "20")
            let pfXML = try Self.xml(direct, hostdevPF.name)
            #expect(Self.value(pfXML, "/network/forward/@mode") == "hostdev")
            #expect(Self.value(pfXML, "/network/forward/@managed") == "yes")
            #expect(Self.value(pfXML, "/network/forward/pf/@dev") == pf)
            #expect(Self.value(pfXML, "/network/vlan/tag/@id") == "30")
            #expect(Self.values(try Self.xml(direct, overBond.name), "/network/forward/interface/@dev") == [overBond.macvtap.interfaces[0]])
            #expect(Self.value(try Self.xml(direct, overBond.name), "/network/forward/@mode") == "vepa")
            let vptXML = try Self.xml(direct, vlanPassthrough.name)
            #expect(Self.value(vptXML, "/network/forward/@mode") == "passthrough")
            #expect(Self.value(vptXML, "/network/vlan/tag/@id") == "100")

            // Starting: a clear error, quickly, and the network stays inactive.
            let expectations: [(Virthost_V1_NetworkSpec, String?, String)] = [
                (ovs, "FAILED_PRECONDITION", "Open vSwitch bridge '\(ovs.ovs.bridge)', which does not exist"),
                (hostdevPF, "FAILED_PRECONDITION", "'\(pf)' as its SR-IOV physical function, but it is not an SR-IOV device"),
                (overVlan, "FAILED_PRECONDITION", "'\(overVlan.macvtap.interfaces[0])' (macvtap interface), which does not exist"),
                (overBond, "FAILED_PRECONDITION", "'\(overBond.macvtap.interfaces[0])' (macvtap interface), which does not exist"),
            ]
            for (spec, code, text) in expectations {
                let (error, seconds) = await NetTest.timed { await NetTest.error { _ = try await client.startNetwork(spec.name) } }
                print("end-to-end: start \(spec.name) -> \(error?.description ?? "started") in \(String(format: "%.3f", seconds)) s")
                #expect(error != nil, "\(spec.name) started")
                if let code { #expect(error?.codeName == code) }
                #expect(error?.message.contains(text) == true, "\(error?.message ?? "")")
                #expect(seconds < 5)
                #expect(try direct.lookupNetwork(name: spec.name).isActive() == false)
            }
            // libvirt runs the VLAN passthrough network (a NIC on it fails: NICHotplugTests).
            let vpt = try await client.startNetwork(vlanPassthrough.name)
            #expect(vpt.active)

            // hostdev by PCI address of no virtual function: define itself fails; nothing defined.
            let byPCI = Virthost_V1_NetworkSpec.with {
                $0.name = scratch.network("pci")
                $0.hostdev = .with { $0.pciAddresses = ["0000:7f:1f.7"] }
            }
            let pciError = await NetTest.error { _ = try await client.defineNetwork(byPCI) }
            print("end-to-end: define \(byPCI.name) -> \(pciError?.description ?? "defined")")
            #expect(pciError?.code == .invalidArgument)
            #expect(pciError?.message.contains("is not an SR-IOV Virtual Function") == true)
            #expect((try? direct.lookupNetwork(name: byPCI.name)) == nil)

            // define+start that cannot start leaves nothing defined.
            var again = ovs
            again.name = scratch.network("ovs2")
            let startError = await NetTest.error { _ = try await client.defineNetwork(again, start: true) }
            #expect(startError?.code == .failedPrecondition)
            #expect((try? direct.lookupNetwork(name: again.name)) == nil)
            var pfAgain = hostdevPF
            pfAgain.name = scratch.network("pf2")
            let pfError = await NetTest.error { _ = try await client.defineNetwork(pfAgain, start: true) }
            #expect(pfError != nil)
            #expect((try? direct.lookupNetwork(name: pfAgain.name)) == nil)

            for spec in [ovs, hostdevPF, overVlan, overBond, vlanPassthrough] {
                if try direct.lookupNetwork(name: spec.name).isActive() { _ = try await client.stopNetwork(spec.name) }
                try await client.undefineNetwork(spec.name)
            }
        }
        #expect(try NetTest.leftovers(try Connection.open(TestBed.uri)) == [])
        #expect(await agent.stop() == 0)
    }

    @Test func badInputGetsAClearErrorAndLeavesNothing() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "netbad")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await NetScratch.with { scratch in
            let client = agent.client
            let direct = scratch.connection
            let before = try direct.listNetworks().map(\.name)
            func isolated(_ name: String, _ address: String = "10.231.9.1", prefix: UInt32 = 24) -> Virthost_V1_NetworkSpec {
                .with {
                    $0.name = name
                    $0.isolated = .init()
                    $0.ips = [Self.ip(address, prefix)]
                }
            }
            for name in ["\(TestBed.prefix)a<b", "\(TestBed.prefix)a'b", "\(TestBed.prefix)a&b", "\(TestBed.prefix)a\"b",
                         TestBed.prefix + String(repeating: "x", count: 60), ""] {
                let error = await NetTest.error { _ = try await client.defineNetwork(isolated(name)) }
                #expect(error?.code == .invalidArgument, "name \(name)")
                #expect(error?.message.contains("network name") == true)
            }
            let rawXML = await NetTest.error {
                _ = try await client.defineNetwork(xml: "<network><name>\(TestBed.prefix)x&amp;y</name></network>")
            }
            #expect(rawXML?.code == .invalidArgument)
            let notXML = await NetTest.error { _ = try await client.defineNetwork(xml: "<network><name>") }
            #expect(notXML?.code == .invalidArgument)

            // A duplicate name; an overlapping subnet (of a network of ours).
            let first = isolated(scratch.network("dup"))
            _ = try await client.defineNetwork(first)
            let duplicate = await NetTest.error { _ = try await client.defineNetwork(isolated(first.name, "10.231.10.1")) }
            #expect(duplicate?.code == .alreadyExists)
            #expect(duplicate?.message.contains("already exists") == true)
            let overlap = await NetTest.error { _ = try await client.defineNetwork(isolated(scratch.network("ovl"), "10.231.9.200", prefix: 25)) }
            #expect(overlap?.code == .failedPrecondition)
            #expect(overlap?.message.contains("overlaps 10.231.9.0/24 of network '\(first.name)'") == true)
            let wider = await NetTest.error { _ = try await client.defineNetwork(isolated(scratch.network("wid"), "10.231.0.1", prefix: 16)) }
            #expect(wider?.code == .failedPrecondition)
            // A subnet the host itself uses (libvirt would only notice at start).
            let hostOverlap = await NetTest.error { _ = try await client.defineNetwork(isolated(scratch.network("lo"), "127.231.0.1")) }
            #expect(hostOverlap?.code == .failedPrecondition)
            #expect(hostOverlap?.message.contains("overlaps 127.0.0.0/8 of the host's interface lo") == true)

            // An invalid MAC, in a spec and in a DHCP update.
            var badMAC = isolated(scratch.network("mac"), "10.231.11.1")
            badMAC.ips[0].dhcpHosts = [.with { $0.mac = "52:54:00:e1:00"; $0.ip = "10.231.11.5" }]
            let macError = await NetTest.error { _ = try await client.defineNetwork(badMAC) }
            #expect(macError?.code == .invalidArgument)
            #expect(macError?.message.contains("is not a MAC address") == true)
            let updateError = await NetTest.error {
                _ = try await client.addDhcpHost(network: first.name, .with { $0.mac = "zz:54:00:e1:00:01"; $0.ip = "10.231.9.5" })
            }
            #expect(updateError?.code == .invalidArgument)

            // A missing bridge, a missing device: define+start fails and leaves nothing.
            let noBridge = Virthost_V1_NetworkSpec.with {
                $0.name = scratch.network("nob")
                $0.bridged = .with { $0.bridge = scratch.link("nob") }
            }
            let bridgeError = await NetTest.error { _ = try await client.defineNetwork(noBridge, start: true) }
            #expect(bridgeError?.code == .failedPrecondition)
            #expect(bridgeError?.message.contains("host bridge '\(noBridge.bridged.bridge)', which does not exist") == true)
            let noDevice = Virthost_V1_NetworkSpec.with {
                $0.name = scratch.network("nod")
                $0.macvtap = .with { $0.interfaces = [scratch.link("nod")] }
            }
            let deviceError = await NetTest.error { _ = try await client.defineNetwork(noDevice, start: true, autostart: true) }
            #expect(deviceError?.code == .failedPrecondition)
            // A host link that is not a bridge.
            let veth = try scratch.veth("x1")
            let notBridge = Virthost_V1_NetworkSpec.with {
                $0.name = scratch.network("nbr")
                $0.bridged = .with { $0.bridge = veth }
            }
            let notBridgeError = await NetTest.error { _ = try await client.defineNetwork(notBridge, start: true) }
            #expect(notBridgeError?.message.contains("it is a veth, not a bridge") == true)
            // A bridge name libvirt would make that exists already on the host.
            var taken = isolated(scratch.network("tkn"), "10.231.12.1")
            taken.bridgeName = veth
            let takenError = await NetTest.error { _ = try await client.defineNetwork(taken) }
            #expect(takenError?.code == .alreadyExists)

            try await client.undefineNetwork(first.name)
            #expect(try direct.listNetworks().map(\.name) == before)
        }
        #expect(try NetTest.leftovers(try Connection.open(TestBed.uri)) == [])
        #expect(await agent.stop() == 0)
    }

    /// Leases page by MAC and address: three leases in libvirt's lease file
    /// (the one its dnsmasq helper writes and net-dhcp-leases reads), read
    /// one per call with --json, then all by the table walking the pages.
    static func pageLeases(socket: String, network: String, bridge: String) throws {
        let file = "/var/lib/libvirt/dnsmasq/\(bridge).status"
        let expiry = Int(Date().timeIntervalSince1970) + 3600
        let macs = ["52:54:00:e1:20:31", "52:54:00:e1:20:32", "52:54:00:e1:20:33"]
        let leases = macs.enumerated().map { index, mac in
            "{\"ip-address\": \"10.231.20.\(31 + index)\", \"mac-address\": \"\(mac)\", \"hostname\": \"p\(index)\", \"expiry-time\": \(expiry)}"
        }
        // dnsmasq's helper may still rewrite the file as the network starts: write until libvirt reads ours.
        let deadline = Date().addingTimeInterval(10)
        var listed = ""
        repeat {
            try ("[" + leases.joined(separator: ",") + "]").write(toFile: file, atomically: true, encoding: .utf8)
            listed = try NetTest.cli(socket, ["net", "leases", network])
        } while !macs.allSatisfy(listed.contains) && Date() < deadline
        #expect(macs.allSatisfy(listed.contains), "\(listed)")

        var seen: [String] = []
        var token = ""
        repeat {
            var arguments = ["--json", "net", "leases", network, "--limit", "1"]
            if !token.isEmpty { arguments += ["--page-token", token] }
            let page = try #require(try JSONSerialization.jsonObject(with: Data(NetTest.cli(socket, arguments).utf8)) as? [String: Any])
            let items = try #require(page["leases"] as? [[String: Any]])
            #expect(items.count == 1)
            seen += items.compactMap { $0["mac"] as? String }
            token = page["next_page_token"] as? String ?? ""
        } while !token.isEmpty && seen.count < 10
        #expect(seen == macs)
        let table = try NetTest.cli(socket, ["net", "leases", network, "--limit", "2"])
        #expect(macs.allSatisfy(table.contains))
    }

    /// The README's net commands, run with the real CLI binary.
    @Test func cliNetCommands() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "netcli")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await NetScratch.with { scratch in
            let socket = agent.socketPath
            let name = scratch.network("cli")
            let define = try NetTest.cli(socket, [
                "net", "define", name, "--type", "isolated", "--bridge-name", scratch.libvirtBridge("c"),
                "--ip", "10.231.20.1/24", "--dhcp-range", "10.231.20.100,10.231.20.150",
                "--dhcp-host", "52:54:00:e1:20:01,10.231.20.10,web", "--ip", "fd31:231:20::1/64", "--start",
            ])
            #expect(define.contains("Network '\(name)' defined and started"))
            let info = try NetTest.cli(socket, ["net", "info", name])
            #expect(info.contains("10.231.20.100-10.231.20.150") && info.contains("fd31:231:20::1/64"))
            #expect(try NetTest.cli(socket, ["net", "dhcp-host", "add", name, "--mac", "52:54:00:e1:20:02", "--ip", "10.231.20.11"]).contains("added"))
            #expect(try NetTest.cli(socket, ["net", "dhcp-host", "del", name, "--mac", "52:54:00:e1:20:02", "--ip", "10.231.20.11"]).contains("removed"))
            #expect(try NetTest.cli(socket, ["net", "autostart", name, "on"]).contains("marked as autostarted"))
            #expect(try NetTest.cli(socket, ["net", "autostart", name, "off"]).contains("unmarked"))
            #expect(try NetTest.cli(socket, ["net", "leases", name]).contains("MAC address"))
            try Self.pageLeases(socket: socket, network: name, bridge: scratch.libvirtBridge("c"))
            #expect(try NetTest.cli(socket, ["net", "stop", name]).contains("stopped"))
            #expect(try NetTest.cli(socket, ["net", "undefine", name]).contains("undefined"))
            let macvtap = scratch.network("clm")
            let veth = try scratch.veth("c1")
            let json = try NetTest.cli(socket, ["--json", "net", "define", macvtap, "--type", "macvtap", "--interfaces", veth, "--mode", "private", "--start"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            #expect(object["forward_mode"] as? String == "FORWARD_MODE_MACVTAP")
            #expect(object["active"] as? Bool == true)
            _ = try NetTest.cli(socket, ["net", "stop", macvtap])
            _ = try NetTest.cli(socket, ["net", "undefine", macvtap])
            // A failing command exits non-zero with the message.
            #expect(throws: TestBedError.self) {
                try NetTest.cli(socket, ["net", "define", scratch.network("clb"), "--type", "bridge", "--bridge", scratch.link("nob"), "--start"])
            }
            #expect((try? scratch.connection.lookupNetwork(name: TestBed.prefix + "clb")) == nil)
        }
        #expect(await agent.stop() == 0)
    }
}
