import Foundation
import Testing

@testable import HostNetworking

/// HostLinks against the running kernel. Reading needs no privileges;
/// changing links needs root (CAP_NET_ADMIN), so those tests are skipped for
/// other users. Every link they make is named `vht-` plus a random suffix
/// and removed again, also when a check fails.
@Suite struct HostLinksTests {
    static var isRoot: Bool { geteuid() == 0 }

    @Test func theLoopbackDeviceIsListed() throws {
        let links = try HostLinks.list()
        let lo = try #require(links.first { $0.name == "lo" })
        #expect(lo.kind == "loopback")
        #expect(lo.index > 0 && lo.masterIndex == 0 && lo.master.isEmpty)
        #expect(lo.tap == nil)
        #expect(links.map(\.index) == links.map(\.index).sorted())
        #expect(Set(links.map(\.name)).count == links.count)
        #expect(try HostLinks.find("lo") == lo)
        #expect(try HostLinks.get("lo") == lo)
    }

    @Test func aMissingLinkIsNotFoundAndNamed() throws {
        let name = Scratch.name("gone")
        #expect(try HostLinks.find(name) == nil)
        #expect(throws: HostNetworkError(.notFound, "host bridge '\(name)' does not exist")) {
            try HostLinks.get(name, what: "bridge")
        }
        #expect(!HostLinks.bridgeSTP(name))
    }

    /// Names are refused before the kernel sees them, for every kind.
    @Test func badNamesAreRefusedBeforeAnythingChanges() throws {
        let bad = "bad name!"
        let attempts: [() throws -> Any] = [
            { try HostLinks.createBridge(bad) },
            { try HostLinks.createTap(bad) },
            { try HostLinks.createVeth(bad, peer: Scratch.name("p")) },
            { try HostLinks.createVeth(Scratch.name("p"), peer: bad) },
            { try HostLinks.createVlan(bad, parent: "lo", id: 5) },
            { try HostLinks.createBond(bad) },
        ]
        for attempt in attempts {
            let error = failure(attempt)
            #expect(error?.kind == .invalid)
            #expect(error?.message.hasPrefix("interface name 'bad name!' has a character") == true)
        }
    }

    @Test func theHostsSubnetsIncludeLoopback() {
        let subnets = HostLinks.subnets()
        #expect(subnets.contains { $0.interface == "lo" && $0.address == [127, 0, 0, 1] && $0.prefix == 8 && $0.source == "address" })
        for subnet in subnets {
            #expect(subnet.address.count == 4 || subnet.address.count == 16)
            #expect(subnet.prefix >= 0 && subnet.prefix <= subnet.address.count * 8)
            #expect(subnet.source == "address" || subnet.source == "route")
            // Link-local IPv6 is left out.
            #expect(!(subnet.address.count == 16 && subnet.address[0] == 0xfe && subnet.address[1] & 0xc0 == 0x80))
        }
    }

    // MARK: Changing links (root)

    @Test(.enabled(if: isRoot, "needs root (CAP_NET_ADMIN) to change links"))
    func bridgesTapsAndVethsAreMadeConnectedAndRemoved() throws {
        try Scratch.with { scratch in
            let bridge = scratch.name("br")
            let made = try scratch.track(bridge) { try HostLinks.createBridge(bridge, mtu: 1400) }
            #expect(made.kind == "bridge" && made.adminUp && made.mtu == 1400 && made.ports.isEmpty)
            #expect(!HostLinks.bridgeSTP(bridge))
            #expect(failure { try HostLinks.createBridge(bridge) }?.kind == .alreadyExists)

            let (veth, peer) = (scratch.name("v"), scratch.name("p"))
            let pair = try scratch.track(veth) { try HostLinks.createVeth(veth, peer: peer) }
            #expect(pair.kind == "veth" && !pair.adminUp)
            #expect(try HostLinks.get(peer).kind == "veth")
            try HostLinks.setUp(veth, true)
            #expect(try HostLinks.get(veth).adminUp)
            try HostLinks.setUp(veth, false)
            #expect(try !HostLinks.get(veth).adminUp)

            let tap = scratch.name("t")
            let made2 = try scratch.track(tap, isTap: true) { try HostLinks.createTap(tap, ownerUID: 65534, mtu: 1300, bridge: bridge) }
            #expect(made2.kind == "tap" && made2.master == bridge && made2.mtu == 1300 && made2.adminUp)
            #expect(made2.tap?.persistent == true && made2.tap?.isTap == true && made2.tap?.multiQueue == false)
            #expect(made2.tap?.ownerUID == 65534 && made2.tap?.ownerGID == nil)

            // A veth joins and leaves the bridge; the bridge lists its ports.
            let joined = try HostLinks.addToBridge(bridge: bridge, port: veth)
            #expect(joined.master == bridge && joined.masterIndex == made.index)
            #expect(try HostLinks.get(bridge).ports == [tap, veth].sorted())
            #expect(failure { try HostLinks.addToBridge(bridge: bridge, port: veth) }?.kind == .alreadyExists)
            #expect(failure { try HostLinks.addToBridge(bridge: tap, port: peer) }?.kind == .wrongState)
            #expect(failure { try HostLinks.addToBridge(bridge: bridge, port: "lo") }?.kind == .invalid)
            let left = try HostLinks.removeFromBridge(bridge: bridge, port: veth)
            #expect(left.masterIndex == 0 && left.master.isEmpty)
            #expect(failure { try HostLinks.removeFromBridge(bridge: bridge, port: veth) }?.kind == .wrongState)

            // deleteTap refuses what is not a TAP; delete removes any kind.
            #expect(failure { try HostLinks.deleteTap(veth) }?.kind == .wrongState)
            try HostLinks.deleteTap(tap)
            #expect(try HostLinks.find(tap) == nil)
            try HostLinks.delete(veth)
            #expect(try HostLinks.find(veth) == nil && HostLinks.find(peer) == nil)  // the peer goes with it
            try HostLinks.delete(bridge)
            #expect(try HostLinks.find(bridge) == nil)
        }
    }

    /// A VLAN or bond on a kernel without 8021q or bonding is refused clearly
    /// and leaves nothing behind; where the kernel has them, they are made.
    @Test(.enabled(if: isRoot, "needs root (CAP_NET_ADMIN) to change links"))
    func vlansAndBondsAreMadeOrClearlyUnsupported() throws {
        try Scratch.with { scratch in
            let (veth, peer) = (scratch.name("v"), scratch.name("p"))
            _ = try scratch.track(veth) { try HostLinks.createVeth(veth, peer: peer) }
            let vlan = scratch.name("vl")
            do {
                let made = try scratch.track(vlan) { try HostLinks.createVlan(vlan, parent: veth, id: 42) }
                #expect(made.kind == "vlan" && !made.adminUp)
                try HostLinks.delete(vlan)
            } catch let error as HostNetworkError where error.kind == .unsupported {
                #expect(error.message.contains("8021q"))
            }
            #expect(try HostLinks.find(vlan) == nil)

            let bond = scratch.name("bo")
            do {
                let made = try scratch.track(bond) { try HostLinks.createBond(bond, ports: [peer]) }
                #expect(made.kind == "bond")
                #expect(try HostLinks.get(peer).master == bond)
                try HostLinks.delete(bond)
            } catch let error as HostNetworkError where error.kind == .unsupported {
                #expect(error.message.contains("bonding"))
            }
            #expect(try HostLinks.find(bond) == nil)
            #expect(try HostLinks.get(peer).masterIndex == 0)
        }
    }
}

/// The HostNetworkError `body` throws; nil when it throws none (or another error).
func failure(_ body: () throws -> Any) -> HostNetworkError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? HostNetworkError
    }
}

/// Links a test makes, removed at the end whatever happened.
final class Scratch {
    private let suffix = String(UInt32.random(in: 0..<UInt32.max), radix: 36)
    private var made: [(name: String, isTap: Bool)] = []

    /// `vht-` + a random suffix, for names no other test or host uses.
    static func name(_ role: String) -> String {
        "vht-\(role)\(String(UInt32.random(in: 0..<UInt32.max), radix: 36))"
    }

    /// A name for `role` in this scratch: `vht-ROLE` + this scratch's suffix (at most 15 bytes).
    func name(_ role: String) -> String { "vht-\(role)\(suffix)" }

    /// Runs `create`, remembering `name` for cleanup even if `create` throws
    /// after the link appeared.
    func track<T>(_ name: String, isTap: Bool = false, _ create: () throws -> T) throws -> T {
        made.append((name, isTap))
        return try create()
    }

    static func with(_ body: (Scratch) throws -> Void) throws {
        let scratch = Scratch()
        defer { scratch.cleanUp() }
        try body(scratch)
    }

    private func cleanUp() {
        for link in made.reversed() where (try? HostLinks.find(link.name)) != nil {
            if link.isTap { try? HostLinks.deleteTap(link.name) } else { try? HostLinks.delete(link.name) }
        }
    }
}
