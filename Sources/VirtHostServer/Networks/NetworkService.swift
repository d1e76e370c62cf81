import Foundation
import GRPCCore
import HostNetworking
import Libvirt
import SwiftProtobuf
import VirtHostAPI

/// NetworkService: libvirt virtual networks of every kind, from typed specs
/// or raw XML, their lifecycle and their DHCP.
struct NetworkService: Virthost_V1_NetworkService.SimpleServiceProtocol {
    let hypervisor: HypervisorConnection

    /// Serializes define calls, so two overlapping subnets cannot both pass the
    /// overlap check.
    private static let defineLock = NSLock()

    func listNetworks(
        request: Virthost_V1_ListNetworksRequest, context: ServerContext
    ) async throws -> Virthost_V1_ListNetworksResponse {
        let filter = try ListFilter(activeOnly: request.activeOnly, inactiveOnly: request.inactiveOnly)
        return try await hypervisor.run { connection in
            var response = Virthost_V1_ListNetworksResponse()
            response.networks = try Listing.live(connection.listNetworks(filter), Self.message)
            return response
        }
    }

    func getNetwork(request: Virthost_V1_NetworkRef, context: ServerContext) async throws -> Virthost_V1_Network {
        let ref = try ObjectRef(request)
        return try await hypervisor.run { try Self.message($0.network(ref)) }
    }

    func getNetworkXML(
        request: Virthost_V1_GetNetworkXMLRequest, context: ServerContext
    ) async throws -> Virthost_V1_GetNetworkXMLResponse {
        let ref = try ObjectRef(request.network)
        return try await hypervisor.run { connection in
            var response = Virthost_V1_GetNetworkXMLResponse()
            response.xml = try connection.network(ref).xml(inactive: request.inactive)
            return response
        }
    }

    func defineNetwork(request: Virthost_V1_DefineNetworkRequest, context: ServerContext) async throws -> Virthost_V1_Network {
        let xml: String
        let name: String
        let uuid: String
        let blocks: [IPBlock]
        let bridgeName: String
        switch request.definition {
        case .spec(let spec):
            try NetworkSpecXML.validate(spec)
            xml = try NetworkSpecXML.xml(spec)
            (name, uuid, bridgeName) = (spec.name, spec.uuid, spec.bridgeName)
            blocks = try NetworkSpecXML.blocks(spec.ips)
        case .xml(let raw):
            try Validate.xmlDocument(raw, root: "network")
            let reader: XMLReader
            do {
                reader = try XMLReader(raw)
            } catch {
                throw Refusal.invalid("xml is not a well-formed <network> document: \(error.localizedDescription)")
            }
            guard reader.elements("/network").count == 1 else { throw Refusal.invalid("xml is not a <network> document") }
            name = reader.string("/network/name")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            try Validate.objectName(name, field: "network name")
            uuid = reader.string("/network/uuid")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if !uuid.isEmpty { try Validate.uuid(uuid, field: "uuid") }
            // The bridge libvirt makes itself (no forward, nat, route, open).
            let mode = reader.elements("/network/forward").first.map { $0.attr("mode") ?? "nat" }
            bridgeName = mode == nil || ["nat", "route", "open"].contains(mode!) ? reader.string("/network/bridge/@name") ?? "" : ""
            if !bridgeName.isEmpty { try HostChecks.linkName(bridgeName, field: "bridge name") }
            blocks = try NetworkXML.ipBlocks(raw)
            for (i, block) in blocks.enumerated() {
                if let clash = blocks[..<i].first(where: { $0.overlaps(block) }) {
                    throw Refusal.invalid("address blocks \(clash.subnet) and \(block.subnet) overlap")
                }
            }
            xml = raw
        case nil:
            throw Refusal.invalid("no network given: set spec or xml")
        }
        return try await hypervisor.run { connection in
            Self.defineLock.lock()
            defer { Self.defineLock.unlock() }
            try Self.checkNew(
                connection, name: name, uuid: uuid, blocks: blocks, bridgeName: bridgeName, hostChecks: HostChecks.enabled(connection))
            let network = try connection.defineNetwork(xml: xml)
            do {
                if request.autostart { try network.setAutostart(true) }
                if request.start {
                    if HostChecks.enabled(connection) { try HostChecks.uplinks(of: try network.xml(), network: name) }
                    try network.start()
                }
            } catch {
                // Nothing stays behind: not started, not defined.
                if (try? network.isActive()) == true { try? network.stop() }
                try? network.undefine()
                throw error
            }
            return try Self.message(network)
        }
    }

    func startNetwork(request: Virthost_V1_NetworkRef, context: ServerContext) async throws -> Virthost_V1_Network {
        let ref = try ObjectRef(request)
        return try await hypervisor.run { connection in
            let network = try connection.network(ref)
            if try network.isActive() {
                throw Refusal(.failedPrecondition, "network '\(network.name)' is already active")
            }
            if HostChecks.enabled(connection) { try HostChecks.uplinks(of: try network.xml(), network: network.name) }
            try network.start()
            return try Self.message(network)
        }
    }

    func stopNetwork(request: Virthost_V1_NetworkRef, context: ServerContext) async throws -> Virthost_V1_Network {
        let ref = try ObjectRef(request)
        return try await hypervisor.run { connection in
            let network = try connection.network(ref)
            let name = network.name
            let persistent = try network.isPersistent()
            try network.stop()
            // A transient network is gone once stopped: report it as stopped.
            guard persistent else {
                var message = Virthost_V1_Network()
                message.name = name
                return message
            }
            return try Self.message(network)
        }
    }

    func undefineNetwork(request: Virthost_V1_NetworkRef, context: ServerContext) async throws -> Virthost_V1_Empty {
        let ref = try ObjectRef(request)
        return try await hypervisor.run { connection in
            try connection.network(ref).undefine()
            return Virthost_V1_Empty()
        }
    }

    func setNetworkAutostart(
        request: Virthost_V1_SetNetworkAutostartRequest, context: ServerContext
    ) async throws -> Virthost_V1_Network {
        let ref = try ObjectRef(request.network)
        return try await hypervisor.run { connection in
            let network = try connection.network(ref)
            try network.setAutostart(request.autostart)
            return try Self.message(network)
        }
    }

    func listDhcpLeases(
        request: Virthost_V1_ListDhcpLeasesRequest, context: ServerContext
    ) async throws -> Virthost_V1_ListDhcpLeasesResponse {
        let ref = try ObjectRef(request.network)
        if !request.mac.isEmpty { try Validate.mac(request.mac) }
        let mac = request.mac.isEmpty ? nil : request.mac.lowercased()
        return try await hypervisor.run { connection in
            let network = try connection.network(ref)
            var response = Virthost_V1_ListDhcpLeasesResponse()
            response.leases = try network.dhcpLeases(mac: mac).map { lease in
                Virthost_V1_DhcpLease.with {
                    $0.interface = lease.interface
                    $0.mac = lease.mac.lowercased()
                    $0.ip = lease.ipAddress
                    $0.prefix = lease.prefix
                    $0.hostname = lease.hostname
                    $0.clientID = lease.clientID
                    $0.expiresAt = Google_Protobuf_Timestamp(date: lease.expiry)
                }
            }
            return response
        }
    }

    func updateDhcpHost(request: Virthost_V1_UpdateDhcpHostRequest, context: ServerContext) async throws -> Virthost_V1_Network {
        let ref = try ObjectRef(request.network)
        let host = request.host
        guard let hostIP = IPAddress(host.ip) else {
            throw Refusal.invalid("host.ip '\(host.ip.prefix(64))' is not an IPv4 or IPv6 address")
        }
        if !host.mac.isEmpty { try Validate.mac(host.mac, field: "host.mac") }
        if !host.hostname.isEmpty { try NetworkSpecXML.dnsName(host.hostname, field: "host.hostname") }
        let blockAddress = IPAddress(request.ipAddress)
        if !request.ipAddress.isEmpty, blockAddress == nil {
            throw Refusal.invalid("ip_address '\(request.ipAddress.prefix(64))' is not an address")
        }
        return try await hypervisor.run { connection in
            let network = try connection.network(ref)
            let active = try network.isActive()
            let persistent = try network.isPersistent()
            // The persistent definition when there is one (the test driver has no inactive XML).
            let xml = try persistent ? (try? network.xml(inactive: true)) ?? network.xml() : network.xml()
            let reader = try XMLReader(xml)
            let ips = reader.elements("/network/ip")
            let blocks = try NetworkXML.ipBlocks(xml)
            // libvirt's parentIndex counts every <ip> element.
            let candidates = ips.indices.compactMap { index -> (Int, IPBlock)? in
                guard let address = ips[index].attr("address").flatMap(IPAddress.init),
                    let block = blocks.first(where: { $0.address == address })
                else { return nil }
                return (index, block)
            }
            let chosen: (Int, IPBlock)?
            if let blockAddress {
                chosen = candidates.first { $0.1.address == blockAddress }
                guard chosen != nil else {
                    throw Refusal(.notFound, "network '\(network.name)' has no address block \(blockAddress)")
                }
            } else {
                chosen = candidates.first { $0.1.contains(hostIP) }
            }
            guard let (index, block) = chosen else {
                let known = blocks.map(\.subnet).joined(separator: ", ")
                throw Refusal.invalid(
                    "\(hostIP) is not inside an address block of network '\(network.name)' (\(known.isEmpty ? "it has none" : known))")
            }
            let existing = ips[index].child("dhcp")?.elements(forName: "host") ?? []
            if request.add {
                try NetworkSpecXML.dhcpHost(host, in: block)
                for entry in existing {
                    let mac = entry.attr("mac")?.lowercased()
                    if !host.mac.isEmpty, mac == host.mac.lowercased() {
                        throw Refusal(.alreadyExists, "network '\(network.name)' already has a DHCP host with MAC \(mac!) (\(entry.attr("ip") ?? "-"))")
                    }
                    if entry.attr("ip").flatMap(IPAddress.init) == hostIP {
                        throw Refusal(.alreadyExists, "network '\(network.name)' already hands \(hostIP) to \(mac ?? entry.attr("name") ?? "a host")")
                    }
                    if hostIP.isV6, entry.attr("name") == host.hostname {
                        throw Refusal(.alreadyExists, "network '\(network.name)' already has a DHCP host named \(host.hostname)")
                    }
                }
                try network.update(
                    .addLast, section: .ipDHCPHost, parentIndex: Int32(index),
                    xml: NetworkSpecXML.hostElement(host).xmlString, live: active, config: persistent)
            } else {
                // libvirt deletes only an entry given exactly: send the one we find.
                let match = existing.first { entry in
                    let sameIP = entry.attr("ip").flatMap(IPAddress.init) == hostIP
                    let sameKey = host.mac.isEmpty
                        ? (host.hostname.isEmpty || entry.attr("name") == host.hostname)
                        : entry.attr("mac")?.lowercased() == host.mac.lowercased()
                    return sameIP && sameKey
                }
                guard let match else {
                    throw Refusal(.notFound, "network '\(network.name)' has no DHCP host \(host.mac.isEmpty ? host.hostname : host.mac) with \(hostIP)")
                }
                try network.update(
                    .delete, section: .ipDHCPHost, parentIndex: Int32(index), xml: match.xmlString, live: active, config: persistent)
            }
            return try Self.message(network)
        }
    }

    // MARK: Helpers (run on a libvirt thread)

    /// The Network message with its definition read back as a spec.
    static func message(_ network: Libvirt.Network) throws -> Virthost_V1_Network {
        let parsed = try XMLReader(try network.xml())
        var message = try Virthost_V1_Network(network, parsed: parsed)
        message.spec = try NetworkSpecXML.spec(from: parsed)
        return message
    }

    /// Refuses a duplicate name or UUID, a bridge name in use, and subnets
    /// that overlap an existing network's.
    static func checkNew(
        _ connection: Connection, name: String, uuid: String, blocks: [IPBlock], bridgeName: String, hostChecks: Bool
    ) throws {
        let existing = try connection.listNetworks()
        if let same = existing.first(where: { $0.name == name }) {
            throw Refusal(.alreadyExists, "a network named '\(name)' already exists (uuid \((try? same.uuid()) ?? "?")); undefine it first")
        }
        if !uuid.isEmpty, let same = existing.first(where: { (try? $0.uuid())?.lowercased() == uuid.lowercased() }) {
            throw Refusal(.alreadyExists, "network '\(same.name)' already has uuid \(uuid)")
        }
        for other in existing {
            let xml = try other.xml()
            if !bridgeName.isEmpty, (try? XMLReader(xml).string("/network/bridge/@name")) == bridgeName {
                throw Refusal(.alreadyExists, "bridge name '\(bridgeName)' is already used by network '\(other.name)'")
            }
            for theirs in try NetworkXML.ipBlocks(xml) {
                if let mine = blocks.first(where: { $0.overlaps(theirs) }) {
                    throw Refusal(.failedPrecondition, "subnet \(mine.subnet) overlaps \(theirs.subnet) of network '\(other.name)'")
                }
            }
        }
        // libvirt refuses these only at start, as an internal error ("Network is already in use").
        if hostChecks {
            for used in HostLinks.subnets() {
                let theirs = IPBlock(address: IPAddress(bytes: used.address), prefix: used.prefix)
                if let mine = blocks.first(where: { $0.overlaps(theirs) }) {
                    throw Refusal(.failedPrecondition, "subnet \(mine.subnet) overlaps \(theirs.subnet) of the host's interface \(used.interface) (\(used.source == "route" ? "a route" : "address \(theirs.address)"))")
                }
            }
        }
        if hostChecks, !bridgeName.isEmpty, let link = try HostChecks.link(bridgeName) {
            throw Refusal(.alreadyExists, "host interface '\(bridgeName)' already exists (a \(link.kind)); libvirt makes the network's bridge itself: pick another bridge_name")
        }
    }
}
