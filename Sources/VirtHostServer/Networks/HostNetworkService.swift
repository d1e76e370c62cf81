import Foundation
import GRPCCore
import HostNetworking
import Libvirt
import VirtHostAPI

/// HostNetworkService: host bridges, TAP devices, VLANs and bonds, link
/// settings, addresses and routes over rtnetlink (libnl-route-3) and
/// `/dev/net/tun`, what brctl and `ip` do; and bridges put over an uplink
/// with a check, a confirmation window and a rollback
/// (HostNetworkService+Uplink.swift, ``PendingBridges``).
///
/// Link changes run one at a time on a thread of their own, so a check
/// ("does br0 exist?") and the change after it are not interleaved with
/// another call's.
struct HostNetworkService: Virthost_V1_HostNetworkService.SimpleServiceProtocol {
    let hypervisor: HypervisorConnection
    /// Bridges over uplinks waiting for a confirmation.
    let pending: PendingBridges

    /// One thread: netlink calls are quick, and serial link changes keep checks valid.
    static let executor = BlockingExecutor(threads: 1, name: "netlink")

    /// Link kinds DeleteLink removes; bridges and TAPs have their own calls,
    /// physical devices and loopback are never removed.
    static let deletableKinds: Set<String> = ["vlan", "bond", "veth", "dummy", "macvlan", "macvtap", "vxlan"]

    static let bondModes: Set<String> = [
        "balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb",
    ]

    func listLinks(request: Virthost_V1_ListLinksRequest, context: ServerContext) async throws -> Virthost_V1_ListLinksResponse {
        if !request.kind.isEmpty, request.kind.utf8.count > 32 || !request.kind.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
            throw Refusal.invalid("kind '\(request.kind.prefix(32))' is not a link kind (like bridge, tap, veth)")
        }
        let page = try Page(.links, size: request.pageSize, token: request.pageToken, prefix: request.namePrefix)
        return try await Self.netlink {
            let links = try HostLinks.list().filter { request.kind.isEmpty || $0.kind == request.kind }
            let (chosen, next) = page.select(links, name: \.name)
            var response = Virthost_V1_ListLinksResponse()
            response.links = chosen.map(Self.message)
            response.nextPageToken = next
            return response
        }
    }

    func createBridge(request: Virthost_V1_CreateBridgeRequest, context: ServerContext) async throws -> Virthost_V1_Link {
        try HostChecks.linkName(request.name, field: "bridge name")
        if request.mtu != 0, !(68...65535).contains(request.mtu) { throw Refusal.invalid("mtu \(request.mtu) is outside 68-65535") }
        return try await Self.netlink {
            Self.message(try HostLinks.createBridge(request.name, mtu: request.mtu, stp: request.stp))
        }
    }

    func deleteBridge(request: Virthost_V1_DeleteLinkRequest, context: ServerContext) async throws -> Virthost_V1_Empty {
        try HostChecks.linkName(request.name, field: "bridge name")
        let name = request.name
        // Refuse a bridge an active libvirt network uses (libvirt's own, or a
        // bridged network's); without libvirt, the host checks still hold.
        let users = (try? await hypervisor.run { connection in
            try connection.listNetworks(.active).filter {
                (try? XMLReader(try $0.xml()).string("/network/bridge/@name")) == name
            }.map(\.name)
        }) ?? []
        if let user = users.first {
            throw Refusal(.failedPrecondition, "bridge '\(name)' is used by active libvirt network '\(user)'; stop that network first")
        }
        let pending = self.pending
        return try await Self.netlink {
            if try pending.row(name) != nil {
                throw HostNetworkError(
                    .wrongState, "bridge '\(name)' is over an uplink and waits for a confirmation: confirm it, or roll it back with bridge del \(name) --restore-uplink")
            }
            let link = try HostLinks.get(name, what: "bridge")
            guard link.kind == "bridge" else {
                throw HostNetworkError(.wrongState, "host interface '\(name)' is not a bridge (it is a \(link.kind))")
            }
            let ports = try HostLinks.list().filter { $0.masterIndex == link.index }
            let nics = ports.filter { $0.tap.map { !$0.persistent } ?? false }.map(\.name)
            if !nics.isEmpty {
                throw HostNetworkError(
                    .wrongState,
                    "bridge '\(name)' still carries NICs of running machines (\(nics.joined(separator: ", "))); detach them first")
            }
            try HostLinks.delete(name)
            return Virthost_V1_Empty()
        }
    }

    func createTap(request: Virthost_V1_CreateTapRequest, context: ServerContext) async throws -> Virthost_V1_Link {
        try HostChecks.linkName(request.name, field: "TAP name")
        if !request.bridge.isEmpty { try HostChecks.linkName(request.bridge, field: "bridge") }
        if request.mtu != 0, !(68...65535).contains(request.mtu) { throw Refusal.invalid("mtu \(request.mtu) is outside 68-65535") }
        if request.hasOwnerUid, request.ownerUid == UInt32.max { throw Refusal.invalid("owner_uid 4294967295 is not a uid") }
        if request.hasOwnerGid, request.ownerGid == UInt32.max { throw Refusal.invalid("owner_gid 4294967295 is not a gid") }
        return try await Self.netlink {
            Self.message(
                try HostLinks.createTap(
                    request.name, ownerUID: request.hasOwnerUid ? request.ownerUid : nil,
                    ownerGID: request.hasOwnerGid ? request.ownerGid : nil, multiQueue: request.multiQueue, mtu: request.mtu,
                    bridge: request.bridge.isEmpty ? nil : request.bridge))
        }
    }

    func deleteTap(request: Virthost_V1_DeleteLinkRequest, context: ServerContext) async throws -> Virthost_V1_Empty {
        try HostChecks.linkName(request.name, field: "TAP name")
        return try await Self.netlink {
            try HostLinks.deleteTap(request.name)
            return Virthost_V1_Empty()
        }
    }

    func addToBridge(request: Virthost_V1_BridgePortRequest, context: ServerContext) async throws -> Virthost_V1_Link {
        try HostChecks.linkName(request.bridge, field: "bridge")
        try HostChecks.linkName(request.interface, field: "interface")
        return try await Self.netlink {
            Self.message(try HostLinks.addToBridge(bridge: request.bridge, port: request.interface))
        }
    }

    func removeFromBridge(request: Virthost_V1_BridgePortRequest, context: ServerContext) async throws -> Virthost_V1_Link {
        try HostChecks.linkName(request.bridge, field: "bridge")
        try HostChecks.linkName(request.interface, field: "interface")
        return try await Self.netlink {
            Self.message(try HostLinks.removeFromBridge(bridge: request.bridge, port: request.interface))
        }
    }

    func createVlan(request: Virthost_V1_CreateVlanRequest, context: ServerContext) async throws -> Virthost_V1_Link {
        try HostChecks.linkName(request.name, field: "VLAN interface name")
        try HostChecks.linkName(request.parent, field: "parent")
        guard (1...4094).contains(request.vlanID) else { throw Refusal.invalid("vlan_id \(request.vlanID) is outside 1-4094") }
        return try await Self.netlink {
            Self.message(try HostLinks.createVlan(request.name, parent: request.parent, id: UInt16(request.vlanID), up: request.up))
        }
    }

    func createBond(request: Virthost_V1_CreateBondRequest, context: ServerContext) async throws -> Virthost_V1_Link {
        try HostChecks.linkName(request.name, field: "bond name")
        if !request.mode.isEmpty, !Self.bondModes.contains(request.mode) {
            throw Refusal.invalid("bond mode '\(request.mode.prefix(32))' is not one of: \(Self.bondModes.sorted().joined(separator: ", "))")
        }
        for port in request.ports { try HostChecks.linkName(port, field: "bond port") }
        if Set(request.ports).count != request.ports.count { throw Refusal.invalid("ports names an interface twice") }
        return try await Self.netlink {
            Self.message(try HostLinks.createBond(request.name, mode: request.mode, ports: request.ports, up: request.up))
        }
    }

    func deleteLink(request: Virthost_V1_DeleteLinkRequest, context: ServerContext) async throws -> Virthost_V1_Empty {
        try HostChecks.linkName(request.name, field: "link name")
        return try await Self.netlink {
            let link = try HostLinks.get(request.name)
            switch link.kind {
            case "bridge":
                throw HostNetworkError(.wrongState, "'\(link.name)' is a bridge: delete it with DeleteBridge (virthost bridge del)")
            case "tap", "tun":
                throw HostNetworkError(.wrongState, "'\(link.name)' is a \(link.kind) device: delete it with DeleteTap (virthost tap del)")
            case let kind where !Self.deletableKinds.contains(kind):
                throw HostNetworkError(
                    .wrongState, "'\(link.name)' is a \(kind) link; virthost deletes only \(Self.deletableKinds.sorted().joined(separator: ", ")) links")
            default:
                try HostLinks.delete(link.name)
                return Virthost_V1_Empty()
            }
        }
    }

    // MARK: Helpers

    /// Runs netlink work on the netlink thread; its errors become gRPC errors.
    static func netlink<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await executor.run(body)
        } catch let error as HostNetworkError {
            throw rpcError(error)
        }
    }

    static func rpcError(_ error: HostNetworkError) -> RPCError {
        let code: RPCError.Code
        switch error.kind {
        case .notFound: code = .notFound
        case .alreadyExists: code = .alreadyExists
        case .invalid: code = .invalidArgument
        case .busy, .wrongState: code = .failedPrecondition
        case .unsupported: code = .unimplemented
        case .permissionDenied: code = .permissionDenied
        case .failed: code = .internalError
        }
        return RPCError(code: code, message: error.message)
    }

    static func message(_ link: LinkInfo) -> Virthost_V1_Link {
        var message = Virthost_V1_Link()
        message.name = link.name
        message.index = UInt32(bitPattern: link.index)
        message.kind = link.kind
        message.mac = link.mac
        message.master = link.master
        message.state = link.operState
        message.mtu = link.mtu
        message.adminUp = link.adminUp
        message.ports = link.ports
        if let tap = link.tap {
            message.tap = .with {
                $0.persistent = tap.persistent
                $0.multiQueue = tap.multiQueue
                if let uid = tap.ownerUID { $0.ownerUid = uid }
                if let gid = tap.ownerGID { $0.ownerGid = gid }
            }
        }
        return message
    }
}
