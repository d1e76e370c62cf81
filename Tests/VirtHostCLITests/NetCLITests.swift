import ArgumentParser
import Foundation
import Testing
import VirtHostClient
@testable import VirtHostCLI

/// `virthost net define` turns its flags into the spec the agent gets; the
/// other net commands run against the test driver's demo host.
@Suite struct NetCLITests {
    static func spec(_ arguments: [String]) throws -> Virthost_V1_NetworkSpec {
        let command = try VirtHostCommand.parseAsRoot(["net", "define"] + arguments)
        guard let define = command as? NetCommand.Define else { throw ValidationError("not net define") }
        return try define.buildSpec()
    }

    @Test func flagsBecomeATypedSpec() throws {
        let iso = try Self.spec([
            "lab", "--type", "isolated", "--bridge-name", "virbr10", "--ip", "192.0.2.1/24", "--ip", "2001:db8::1/64",
            "--dhcp-range", "192.0.2.100,192.0.2.199", "--dhcp-range", "2001:db8::100,2001:db8::1ff",
            "--dhcp-host", "52:54:00:00:00:01,192.0.2.10,web", "--dhcp-host", ",2001:db8::10,web", "--mtu", "9000", "--domain", "lab.example",
        ])
        #expect(iso.name == "lab" && iso.bridgeName == "virbr10" && iso.mtu == 9000 && iso.domain == "lab.example")
        #expect(iso.kind == .isolated(.init()))
        #expect(iso.ips.map(\.address) == ["192.0.2.1", "2001:db8::1"])
        #expect(iso.ips[0].dhcpRanges.map(\.start) == ["192.0.2.100"])
        #expect(iso.ips[1].dhcpRanges.map(\.end) == ["2001:db8::1ff"])
        #expect(iso.ips[0].dhcpHosts.first?.hostname == "web")
        #expect(iso.ips[1].dhcpHosts.first?.mac == "")

        let nat = try Self.spec(["out", "--type", "nat", "--forward-dev", "eth0", "--nat-ports", "1024-65535", "--ip", "198.51.100.1/24"])
        #expect(nat.nat.dev == "eth0" && nat.nat.portStart == 1024 && nat.nat.portEnd == 65535)
        #expect(try Self.spec(["dmz", "--type", "routed", "--forward-dev", "eth1"]).routed.dev == "eth1")
        #expect(try Self.spec(["lan", "--type", "bridge", "--bridge", "br0"]).bridged.bridge == "br0")
        let macvtap = try Self.spec(["mv", "--type", "macvtap", "--interfaces", "eth1,eth2", "--mode", "passthrough", "--vlan", "42"])
        #expect(macvtap.macvtap.interfaces == ["eth1", "eth2"] && macvtap.macvtap.mode == .passthrough && macvtap.macvtap.vlanTags == [42])
        let hostdev = try Self.spec(["sriov", "--type", "hostdev", "--pci", "0000:03:10.1,0000:03:10.3", "--unmanaged"])
        #expect(hostdev.hostdev.pciAddresses == ["0000:03:10.1", "0000:03:10.3"] && hostdev.hostdev.unmanaged)
        #expect(try Self.spec(["pf", "--type", "hostdev", "--pf", "eth3"]).hostdev.pf == "eth3")
        let ovs = try Self.spec(["o", "--type", "ovs", "--ovs-bridge", "ovsbr0", "--vlan", "10", "--vlan", "20", "--portgroup", "web:10:default", "--portgroup", "trunk:10,20"])
        #expect(ovs.ovs.bridge == "ovsbr0" && ovs.ovs.vlanTags == [10, 20])
        #expect(ovs.ovs.portGroups.map(\.name) == ["web", "trunk"])
        #expect(ovs.ovs.portGroups[0].isDefault && ovs.ovs.portGroups[0].vlanTags == [10])
        #expect(ovs.ovs.portGroups[1].vlanTags == [10, 20] && !ovs.ovs.portGroups[1].isDefault)
    }

    @Test func flagsThatDoNotFitAreRefused() {
        for arguments in [
            ["x", "--type", "bridge"],
            ["x", "--type", "isolated", "--bridge", "br0"],
            ["x", "--type", "nat", "--interfaces", "eth0"],
            ["x", "--type", "nonsense"],
            ["x", "--type", "isolated", "--ip", "192.0.2.1"],
            ["x", "--type", "isolated", "--dhcp-range", "192.0.2.2,192.0.2.9"],
            ["x", "--type", "macvtap", "--interfaces", "eth0", "--mode", "fast"],
        ] {
            #expect(throws: (any Error).self, "\(arguments)") { try Self.spec(arguments) }
        }
        #expect(throws: (any Error).self) { try VirtHostCommand.parseAsRoot(["net", "define", "--type", "isolated"]) }
        #expect(throws: (any Error).self) { try VirtHostCommand.parseAsRoot(["net", "define", "x", "--xml", "f.xml"]) }
        #expect(throws: (any Error).self) { try VirtHostCommand.parseAsRoot(["net", "autostart", "x", "maybe"]) }
        #expect(throws: (any Error).self) { try VirtHostCommand.parseAsRoot(["iface", "attach", "d", "--network", "n", "--bridge", "b"]) }
        #expect(throws: (any Error).self) { try VirtHostCommand.parseAsRoot(["iface", "attach", "d", "--network", "n", "--mode", "vepa"]) }
    }

    @Test func netLifecycleCommandsAgainstTheDemoHost() async throws {
        try await CLIHarness.withAgent { socket in
            let defined = try await CLIHarness.run([
                "--socket", socket, "net", "define", "lab", "--type", "isolated", "--ip", "10.99.0.1/24",
                "--dhcp-range", "10.99.0.100,10.99.0.199", "--start",
            ])
            #expect(defined.contains("Network 'lab' defined and started"))
            let info = try await CLIHarness.run(["--socket", socket, "net", "info", "lab"])
            #expect(info.contains("DHCP 10.99.0.1:") && info.contains("10.99.0.100-10.99.0.199"))
            let added = try await CLIHarness.run([
                "--socket", socket, "net", "dhcp-host", "add", "lab", "--mac", "52:54:00:00:99:01", "--ip", "10.99.0.5", "--hostname", "h1",
            ])
            #expect(added.contains("added to network 'lab'"))
            let json = try await CLIHarness.run(["--socket", socket, "--json", "net", "info", "lab"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            let spec = try #require(object["spec"] as? [String: Any])
            let ips = try #require(spec["ips"] as? [[String: Any]])
            #expect((ips.first?["dhcp_hosts"] as? [[String: Any]])?.first?["hostname"] as? String == "h1")
            #expect(try await CLIHarness.run(["--socket", socket, "net", "autostart", "lab", "on"]).contains("marked as autostarted"))
            #expect(try await CLIHarness.run(["--socket", socket, "net", "stop", "lab"]).contains("stopped"))
            #expect(try await CLIHarness.run(["--socket", socket, "net", "undefine", "lab"]).contains("undefined"))
            let list = try await CLIHarness.run(["--socket", socket, "net", "list"])
            #expect(!list.contains("lab "))
        }
    }
}
