import Foundation
import HostNetworking
import Libvirt
import SwiftProtobuf
import Synchronization
import VirtHostAPI

/// A network to define, checked: from a typed spec (built into XML here) or
/// from raw XML (read for what the checks need).
struct NetworkDefinition: Sendable {
    var xml: String
    var name: String
    var uuid: String
    /// The address blocks, for the overlap checks.
    var blocks: [IPBlock]
    /// The bridge libvirt makes itself, when the definition names one.
    var bridgeName: String

    init(_ definition: Virthost_V1_DefineNetworkRequest.OneOf_Definition?) throws {
        switch definition {
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
    }
}

/// A static DHCP host to add or remove, checked.
struct DhcpHostChange: Sendable {
    var host: Virthost_V1_DhcpHost
    var ip: IPAddress
    /// The address block named by the caller, if any.
    var block: IPAddress?
    var add: Bool

    init(_ request: Virthost_V1_UpdateDhcpHostRequest) throws {
        host = request.host
        guard let ip = IPAddress(host.ip) else {
            throw Refusal.invalid("host.ip '\(host.ip.prefix(64))' is not an IPv4 or IPv6 address")
        }
        self.ip = ip
        if !host.mac.isEmpty { try Validate.mac(host.mac, field: "host.mac") }
        if !host.hostname.isEmpty { try NetworkSpecXML.dnsName(host.hostname, field: "host.hostname") }
        block = IPAddress(request.ipAddress)
        if !request.ipAddress.isEmpty, block == nil {
            throw Refusal.invalid("ip_address '\(request.ipAddress.prefix(64))' is not an address")
        }
        add = request.add
    }
}

/// libvirt networks: define with the checks libvirt leaves to start time,
/// start, stop, DHCP. Plain operations on one connection, run on a libvirt
/// thread; no gRPC.
struct NetworkOperations {
    let connection: Connection
    /// Whether host links can be checked (not libvirt's test driver).
    let hostChecks: Bool

    init(_ connection: Connection) {
        self.connection = connection
        hostChecks = HostChecks.enabled(connection)
    }

    /// Serializes defines, so two overlapping subnets cannot both pass the
    /// overlap check.
    private static let defineLock = Mutex(())

    /// Defines a network after the checks, optionally starts it and marks it
    /// autostart; on any failure nothing stays behind.
    func define(_ definition: NetworkDefinition, start: Bool, autostart: Bool) throws -> Virthost_V1_Network {
        try Self.defineLock.withLock { _ in
            try checkNew(definition)
            let network = try connection.defineNetwork(xml: definition.xml)
            do {
                if autostart { try network.setAutostart(true) }
                if start {
                    if hostChecks { try HostChecks.uplinks(of: try network.xml(), network: definition.name) }
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

    /// Starts a defined network once the host links it names exist.
    func start(_ ref: ObjectRef) throws -> Virthost_V1_Network {
        let network = try connection.network(ref)
        if try network.isActive() {
            throw Refusal(.failedPrecondition, "network '\(network.name)' is already active")
        }
        if hostChecks { try HostChecks.uplinks(of: try network.xml(), network: network.name) }
        try network.start()
        return try Self.message(network)
    }

    /// Stops a network; a transient one is gone afterwards and reported by name only.
    func stop(_ ref: ObjectRef) throws -> Virthost_V1_Network {
        let network = try connection.network(ref)
        let name = network.name
        let persistent = try network.isPersistent()
        try network.stop()
        guard persistent else {
            var message = Virthost_V1_Network()
            message.name = name
            return message
        }
        return try Self.message(network)
    }

    /// The DHCP leases of a network, optionally of one MAC (lower case).
    func leases(_ ref: ObjectRef, mac: String?) throws -> [Virthost_V1_DhcpLease] {
        try connection.network(ref).dhcpLeases(mac: mac).map { lease in
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
    }

    /// Adds or removes a static DHCP host, live and in the definition as the
    /// network has them, in the address block that holds (or is named for) it.
    func update(_ ref: ObjectRef, _ change: DhcpHostChange) throws -> Virthost_V1_Network {
        let host = change.host
        let hostIP = change.ip
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
        if let blockAddress = change.block {
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
        if change.add {
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

    // MARK: Helpers

    /// The Network message with its definition read back as a spec.
    static func message(_ network: Libvirt.Network) throws -> Virthost_V1_Network {
        let parsed = try XMLReader(try network.xml())
        var message = try Virthost_V1_Network(network, parsed: parsed)
        message.spec = try NetworkSpecXML.spec(from: parsed)
        return message
    }

    /// One page of networks in 4 libvirt round trips plus one XML read per
    /// network of the page: the list, then the ACTIVE, TRANSIENT and
    /// AUTOSTART lists, which tell those flags for every network at once
    /// (the per-network getters cost 3 round trips each; transient rather
    /// than persistent because that list is usually empty). The XML holds
    /// the bridge, addresses and spec, which no bulk call returns; what is
    /// parsed from it is reused while the XML is the same (`parsed`).
    static func list(
        _ connection: Connection, filter: ListFilter, page: Page, parsed: DerivedCache<String, Virthost_V1_Network>
    ) throws -> (networks: [Virthost_V1_Network], next: String) {
        let flags: NetworkListFlags
        switch filter {
        case .all: flags = []
        case .active: flags = .active
        case .inactive: flags = .inactive
        }
        let (networks, next) = page.select(try connection.listNetworks(flags: flags), name: \.name)
        guard !networks.isEmpty else { return ([], next) }
        let active = try connection.networkUUIDs(.active)
        let transient = try connection.networkUUIDs(.transient)
        let autostart = try connection.networkUUIDs(.autostart)
        let messages = try Listing.live(networks) { network -> Virthost_V1_Network in
            let uuid = try network.uuid()
            var message = try parsed.value(uuid, from: try network.xml()) { xml in
                let parsed = try XMLReader(xml)
                var message = Virthost_V1_Network()
                let summary = NetworkXML.summary(parsed)
                message.bridge = summary.bridge
                message.forwardMode = summary.forwardMode
                message.addresses = summary.addresses
                message.spec = try NetworkSpecXML.spec(from: parsed)
                return message
            }
            message.name = network.name
            message.uuid = uuid
            message.active = active.contains(uuid)
            message.persistent = !transient.contains(uuid)
            message.autostart = autostart.contains(uuid)
            return message
        }
        return (messages, next)
    }

    /// Refuses a duplicate name or UUID, a bridge name in use, and subnets
    /// that overlap an existing network's.
    func checkNew(_ definition: NetworkDefinition) throws {
        let (name, uuid, blocks, bridgeName) = (definition.name, definition.uuid, definition.blocks, definition.bridgeName)
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
