import ArgumentParser
import Testing

@testable import VirtHostCLI

/// Host networking II verbs: what the CLI refuses before it calls the agent.
@Suite struct HostNetCLITests {
    @Test func theNewVerbsParse() throws {
        for arguments in [
            ["link", "set", "eth1", "--up", "--mtu", "9000"], ["link", "set", "eth1", "--master", "br0"],
            ["link", "set", "eth1", "--nomaster", "--down"], ["addr", "list"], ["addr", "list", "br0"],
            ["addr", "add", "br0", "192.0.2.10/24"], ["addr", "del", "br0", "2001:db8::1/64"], ["route", "list", "-6"],
            ["route", "add", "default", "--via", "192.0.2.1"], ["route", "add", "203.0.113.0/24", "--dev", "br0", "--metric", "5"],
            ["route", "del", "default", "-4"], ["bridge", "add", "br0", "--uplink", "eth0", "--check", "192.0.2.1", "--confirm-within", "60"],
            ["bridge", "confirm", "br0"], ["bridge", "pending"], ["bridge", "del", "br0", "--restore-uplink"],
            ["iface", "attach", "web-1", "--tap", "tap0", "--live"], ["nodedev", "list", "--cap", "pci"], ["nodedev", "info", "0000:00:03.0"],
            ["nodedev", "sriov", "eth2", "--vfs", "4"], ["nodedev", "create-vhba", "--parent", "scsi_host5", "--wwnn", "5001a4a93526d0a1", "--wwpn", "5001a4a93526d0a2"],
            ["nodedev", "destroy", "scsi_host7"], ["hostdev", "list"], ["hostdev", "list", "web-1", "--inactive"],
            ["hostdev", "attach", "web-1", "--pci", "0000:03:00.1", "--managed", "--config"], ["hostdev", "detach", "web-1", "--pci", "0000:03:00.1", "--live"],
        ] {
            #expect(throws: Never.self, "\(arguments)") { _ = try VirtHostCommand.parseAsRoot(arguments) }
        }
    }

    @Test func flagsThatDoNotFitAreRefused() {
        for arguments in [
            ["link", "set", "eth1"], ["link", "set", "eth1", "--up", "--down"], ["link", "set", "eth1", "--master", "br0", "--nomaster"],
            ["route", "add", "default"], ["bridge", "add", "br0", "--check", "192.0.2.1"], ["bridge", "add", "br0", "--confirm-within", "5"],
            ["bridge", "add", "br0", "--uplink", "eth0", "--mtu", "9000"], ["bridge", "del", "br0", "--uplink", "eth0"],
            ["iface", "attach", "web-1", "--tap", "tap0", "--bridge", "br0"], ["hostdev", "attach", "web-1"],
            ["hostdev", "detach", "web-1", "--pci", "0000:03:00.1", "--wait", "0"],
        ] {
            #expect(throws: (any Error).self, "\(arguments)") { try VirtHostCommand.parseAsRoot(arguments) }
        }
    }
}
