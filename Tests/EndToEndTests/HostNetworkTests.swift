import Foundation
import HostNetworking
import Libvirt
import Testing
import VirtHostClient

/// Host bridges and TAP devices made for real through virthostd (rtnetlink
/// and /dev/net/tun), checked against the kernel's own view.
@Suite(.serialized, .enabled(if: TestBed.shouldRun, "needs root, libvirtd and the test guest; make test sets them up"))
struct HostNetworkTests {
    @Test func bridgesAndTapsAreCreatedConnectedAndRemoved() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "hostnet")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await NetScratch.with { scratch in
            let client = agent.client
            let bridge = scratch.link("br1")
            let tap = scratch.link("t1")
            let mq = scratch.link("t2")

            // A bridge, up, with spanning tree and an MTU.
            let created = try await client.createBridge(bridge, mtu: 1400, stp: true)
            #expect(created.kind == "bridge")
            #expect(created.adminUp)
            #expect(created.mtu == 1400)
            #expect(HostLinks.bridgeSTP(bridge))
            let kernel = try #require(try HostLinks.find(bridge))
            #expect(kernel.kind == "bridge" && Int(kernel.index) == Int(created.index))
            #expect(try String(contentsOfFile: "/sys/class/net/\(bridge)/address", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == created.mac)
            let again = await NetTest.error { _ = try await client.createBridge(bridge) }
            #expect(again?.code == .alreadyExists)

            // A TAP owned by nobody (65534), connected at once; a multi-queue one.
            let made = try await client.createTap(tap, ownerUID: 65534, ownerGID: 65534, bridge: bridge)
            #expect(made.kind == "tap")
            #expect(made.master == bridge)
            #expect(made.tap.persistent && !made.tap.multiQueue)
            #expect(made.tap.ownerUid == 65534 && made.tap.ownerGid == 65534)
            #expect(try String(contentsOfFile: "/sys/class/net/\(tap)/owner", encoding: .utf8).hasPrefix("65534"))
            let queued = try await client.createTap(mq, multiQueue: true, mtu: 1400)
            #expect(queued.tap.multiQueue && queued.mtu == 1400 && queued.master.isEmpty)
            #expect(!queued.tap.hasOwnerUid)

            // brctl addif/delif with a veth standing in for a NIC.
            let veth = try scratch.veth("v1")
            let joined = try await client.addToBridge(bridge, interface: veth)
            #expect(joined.master == bridge)
            #expect(try HostLinks.find(veth)?.master == bridge)
            let twice = await NetTest.error { _ = try await client.addToBridge(bridge, interface: veth) }
            #expect(twice?.code == .alreadyExists)
            let listed = try await client.listLinks(kind: "bridge").first { $0.name == bridge }
            #expect(listed?.ports == [tap, veth].sorted())
            let taps = try await client.listLinks(kind: "tap").map(\.name)
            #expect(taps.contains(tap) && taps.contains(mq))
            let all = try await client.listLinks()
            #expect(all.contains { $0.name == "lo" && $0.kind == "loopback" })
            #expect(all.first { $0.name == veth }?.kind == "veth")
            let left = try await client.removeFromBridge(bridge, interface: veth)
            #expect(left.master.isEmpty)
            #expect(try HostLinks.find(veth)?.masterIndex == 0)
            let notPort = await NetTest.error { _ = try await client.removeFromBridge(bridge, interface: veth) }
            #expect(notPort?.code == .failedPrecondition)
            #expect(notPort?.message.contains("is not a port of bridge") == true)

            // Kinds are checked before anything changes.
            let tapAsBridge = await NetTest.error { try await client.deleteBridge(tap) }
            #expect(tapAsBridge?.code == .failedPrecondition)
            let bridgeAsTap = await NetTest.error { try await client.deleteTap(bridge) }
            #expect(bridgeAsTap?.code == .failedPrecondition)
            let bridgeAsLink = await NetTest.error { try await client.deleteLink(bridge) }
            #expect(bridgeAsLink?.code == .failedPrecondition)
            let intoATap = await NetTest.error { _ = try await client.addToBridge(tap, interface: veth) }
            #expect(intoATap?.code == .failedPrecondition)
            #expect(intoATap?.message.contains("is not a bridge") == true)

            // Removal, for real.
            try await client.deleteTap(tap)
            try await client.deleteTap(mq)
            try await client.deleteLink(veth)
            try await client.deleteBridge(bridge)
            for name in [tap, mq, veth, bridge] { #expect(try HostLinks.find(name) == nil, "\(name) still exists") }
            let gone = await NetTest.error { try await client.deleteBridge(bridge) }
            #expect(gone?.code == .notFound)
            #expect(gone?.message.contains("does not exist") == true)
        }
        #expect(try NetTest.leftovers(try Connection.open(TestBed.uri)) == [])
        #expect(await agent.stop() == 0)
    }

    @Test func badNamesAndMissingLinksChangeNothing() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "hostbad")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        let client = agent.client
        let mine = { try HostLinks.list().map(\.name).filter { $0.hasPrefix(TestBed.prefix) } }
        let before = try mine()
        for name in ["", "\(TestBed.prefix)waytoolong", "a/b", "a b", "a:b", "..", "\(TestBed.prefix)<x"] {
            let error = await NetTest.error { _ = try await client.createBridge(name) }
            #expect(error?.code == .invalidArgument, "bridge '\(name)'")
            let tapError = await NetTest.error { _ = try await client.createTap(name) }
            #expect(tapError?.code == .invalidArgument, "tap '\(name)'")
        }
        let missing = "\(TestBed.prefix)zz"
        let noBridge = await NetTest.error { _ = try await client.createTap("\(TestBed.prefix)t9", bridge: missing) }
        #expect(noBridge?.code == .notFound)
        #expect(noBridge?.message.contains("'\(missing)' does not exist") == true)
        let noPort = await NetTest.error { _ = try await client.addToBridge(missing, interface: "lo") }
        #expect(noPort?.code == .notFound)
        let noTap = await NetTest.error { try await client.deleteTap(missing) }
        #expect(noTap?.code == .notFound)
        let physical = await NetTest.error { try await client.deleteLink("lo") }
        #expect(physical?.code == .failedPrecondition)
        #expect(try mine() == before)
        #expect(await agent.stop() == 0)
    }

    /// This kernel has no 802.1Q and no bonding: the calls say so, and nothing is made.
    @Test func vlanAndBondFailClearlyOnThisKernel() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "hostvlan")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await NetScratch.with { scratch in
            let client = agent.client
            let parent = try scratch.veth("p1")
            let vlan = scratch.link("v42")
            let bond = scratch.link("bd0")
            let (vlanError, vlanSeconds) = await NetTest.timed {
                await NetTest.error { _ = try await client.createVlan(vlan, parent: parent, id: 42) }
            }
            let (bondError, bondSeconds) = await NetTest.timed {
                await NetTest.error { _ = try await client.createBond(bond, mode: "active-backup", ports: [parent]) }
            }
            print("end-to-end: create vlan -> \(vlanError?.description ?? "ok") in \(String(format: "%.3f", vlanSeconds)) s")
            print("end-to-end: create bond -> \(bondError?.description ?? "ok") in \(String(format: "%.3f", bondSeconds)) s")
            if try HostLinks.find(vlan) == nil {
                #expect(vlanError?.code == .unimplemented)
                #expect(vlanError?.message.contains("8021q") == true)
            } else {
                // A kernel with 8021q: the VLAN is real; remove it through the agent.
                try await client.deleteLink(vlan)
            }
            if try HostLinks.find(bond) == nil {
                #expect(bondError?.code == .unimplemented)
                #expect(bondError?.message.contains("bonding") == true)
            } else {
                try await client.deleteLink(bond)
            }
            #expect(vlanSeconds < 2 && bondSeconds < 2)
            #expect(try HostLinks.find(parent)?.masterIndex == 0)
            let badID = await NetTest.error { _ = try await client.createVlan(vlan, parent: parent, id: 4095) }
            #expect(badID?.code == .invalidArgument)
            let badMode = await NetTest.error { _ = try await client.createBond(bond, mode: "fastest") }
            #expect(badMode?.code == .invalidArgument)
        }
        #expect(await agent.stop() == 0)
    }

    /// The README's bridge/tap/link commands, run with the real CLI binary.
    @Test func cliBridgeTapAndLinkCommands() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "hostcli")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await NetScratch.with { scratch in
            let socket = agent.socketPath
            let bridge = scratch.link("br2")
            let tap = scratch.link("t3")
            let veth = try scratch.veth("v2")
            #expect(try NetTest.cli(socket, ["bridge", "add", bridge]).contains("Bridge '\(bridge)' created"))
            #expect(try NetTest.cli(socket, ["tap", "add", tap, "--bridge", bridge, "--owner", "0"]).contains("on bridge '\(bridge)'"))
            #expect(try NetTest.cli(socket, ["bridge", "addif", bridge, veth]).contains("connected to bridge '\(bridge)'"))
            let show = try NetTest.cli(socket, ["bridge", "list"])
            #expect(show.contains(bridge) && show.contains([tap, veth].sorted().joined(separator: ",")))
            let links = try NetTest.cli(socket, ["--json", "link", "list"])
            let response = try #require(try JSONSerialization.jsonObject(with: Data(links.utf8)) as? [String: Any])
            let array = try #require(response["links"] as? [[String: Any]])
            let row = try #require(array.first { $0["name"] as? String == tap })
            #expect(row["kind"] as? String == "tap")
            #expect(row["master"] as? String == bridge)
            #expect(try NetTest.cli(socket, ["tap", "list"]).contains(tap))
            #expect(try NetTest.cli(socket, ["bridge", "delif", bridge, veth]).contains("disconnected"))
            #expect(try NetTest.cli(socket, ["tap", "del", tap]).contains("deleted"))
            #expect(try NetTest.cli(socket, ["bridge", "del", bridge]).contains("deleted"))
            #expect(try HostLinks.find(bridge) == nil && HostLinks.find(tap) == nil)
        }
        #expect(await agent.stop() == 0)
    }
}
