import Foundation
import LibXML
import GRPCCore
import HostNetworking
import VirtHostAPI

/// Turns a typed ``Virthost_V1_NetworkSpec`` into libvirt `<network>` XML
/// (after checking every field), and reads a `<network>` back into a spec.
enum NetworkSpecXML {
    // MARK: Validation

    /// Checks every field of a spec; bad input gets INVALID_ARGUMENT naming the field.
    static func validate(_ spec: Virthost_V1_NetworkSpec) throws {
        try Validate.objectName(spec.name, field: "network name")
        if !spec.uuid.isEmpty { try Validate.uuid(spec.uuid, field: "uuid") }
        guard let kind = spec.kind else {
            throw Refusal.invalid(
                "network '\(spec.name)' has no kind: set one of isolated, nat, routed, bridged, macvtap, hostdev, ovs")
        }
        let makesBridge: Bool
        switch kind {
        case .isolated, .nat, .routed: makesBridge = true
        default: makesBridge = false
        }
        let kindName = Self.kindName(kind)
        if !spec.bridgeName.isEmpty {
            guard makesBridge else {
                throw Refusal.invalid(
                    "bridge_name is for networks whose bridge libvirt makes (isolated, nat, routed), not \(kindName)"
                        + (kindName == "bridged" || kindName == "ovs" ? "; name the existing bridge in the \(kindName) settings" : ""))
            }
            try HostChecks.linkName(spec.bridgeName, field: "bridge_name")
        }
        if spec.mtu != 0 {
            guard makesBridge else { throw Refusal.invalid("mtu is for networks whose bridge libvirt makes, not \(kindName)") }
            guard (68...65535).contains(spec.mtu) else { throw Refusal.invalid("mtu \(spec.mtu) is outside 68-65535") }
        }
        if !spec.domain.isEmpty {
            guard makesBridge else { throw Refusal.invalid("domain is for networks with libvirt's DNS (isolated, nat, routed), not \(kindName)") }
            try dnsName(spec.domain, field: "domain")
        }
        if !spec.ips.isEmpty, !makesBridge {
            throw Refusal.invalid("ips are for networks whose bridge libvirt makes (isolated, nat, routed), not \(kindName)")
        }
        _ = try blocks(spec.ips)

        switch kind {
        case .isolated: break
        case .nat(let nat):
            if !nat.dev.isEmpty { try HostChecks.linkName(nat.dev, field: "nat.dev") }
            if nat.portStart != 0 || nat.portEnd != 0 {
                guard (1...65535).contains(nat.portStart), (1...65535).contains(nat.portEnd), nat.portStart <= nat.portEnd else {
                    throw Refusal.invalid("nat port range \(nat.portStart)-\(nat.portEnd) is not within 1-65535 with start <= end")
                }
            }
        case .routed(let routed):
            if !routed.dev.isEmpty { try HostChecks.linkName(routed.dev, field: "routed.dev") }
        case .bridged(let bridged):
            guard !bridged.bridge.isEmpty else { throw Refusal.invalid("bridged.bridge is empty: name the existing host bridge") }
            try HostChecks.linkName(bridged.bridge, field: "bridged.bridge")
        case .macvtap(let macvtap):
            guard !macvtap.interfaces.isEmpty else {
                throw Refusal.invalid("macvtap.interfaces is empty: name at least one host interface")
            }
            for dev in macvtap.interfaces { try HostChecks.linkName(dev, field: "macvtap.interfaces") }
            if Set(macvtap.interfaces).count != macvtap.interfaces.count {
                throw Refusal.invalid("macvtap.interfaces names an interface twice")
            }
            if case .UNRECOGNIZED(let raw) = macvtap.mode { throw Refusal.invalid("macvtap.mode \(raw) is unknown") }
            if !macvtap.vlanTags.isEmpty {
                guard macvtap.mode == .passthrough else {
                    throw Refusal.invalid("macvtap.vlan_tags needs mode passthrough (of an SR-IOV virtual function); libvirt refuses VLANs in the other modes")
                }
                guard macvtap.vlanTags.count == 1 else { throw Refusal.invalid("macvtap.vlan_tags takes one tag (no trunks)") }
                try vlanTags(macvtap.vlanTags, field: "macvtap.vlan_tags")
            }
        case .hostdev(let hostdev):
            switch (hostdev.pciAddresses.isEmpty, hostdev.pf.isEmpty) {
            case (true, true): throw Refusal.invalid("hostdev needs pci_addresses or pf")
            case (false, false): throw Refusal.invalid("hostdev takes pci_addresses or pf, not both")
            default: break
            }
            for address in hostdev.pciAddresses { _ = try pciAddress(address) }
            if Set(hostdev.pciAddresses.map { $0.lowercased() }).count != hostdev.pciAddresses.count {
                throw Refusal.invalid("hostdev.pci_addresses names an address twice")
            }
            if !hostdev.pf.isEmpty { try HostChecks.linkName(hostdev.pf, field: "hostdev.pf") }
            guard hostdev.vlanTags.count <= 1 else { throw Refusal.invalid("hostdev.vlan_tags takes one tag (SR-IOV has no trunks)") }
            try vlanTags(hostdev.vlanTags, field: "hostdev.vlan_tags")
        case .ovs(let ovs):
            guard !ovs.bridge.isEmpty else { throw Refusal.invalid("ovs.bridge is empty: name the Open vSwitch bridge") }
            try HostChecks.linkName(ovs.bridge, field: "ovs.bridge")
            try vlanTags(ovs.vlanTags, field: "ovs.vlan_tags")
            var names = Set<String>()
            for group in ovs.portGroups {
                try Validate.objectName(group.name, field: "port group name")
                guard names.insert(group.name).inserted else {
                    throw Refusal.invalid("port group '\(group.name)' is named twice")
                }
                try vlanTags(group.vlanTags, field: "port group '\(group.name)' vlan_tags")
            }
            if ovs.portGroups.filter(\.isDefault).count > 1 {
                throw Refusal.invalid("more than one port group is marked default")
            }
        }
    }

    /// The address blocks of a spec, checked: addresses, prefixes, DHCP
    /// ranges and hosts inside their subnet, no two blocks overlapping, at
    /// most one block with DHCP per family.
    static func blocks(_ ips: [Virthost_V1_NetworkIP]) throws -> [IPBlock] {
        var blocks: [IPBlock] = []
        var dhcpFamilies = Set<Bool>()
        for ip in ips {
            guard let address = IPAddress(ip.address) else {
                throw Refusal.invalid("ip address '\(ip.address.prefix(64))' is not an IPv4 or IPv6 address")
            }
            let block = IPBlock(address: address, prefix: Int(ip.prefix))
            guard ip.prefix >= 1, ip.prefix <= address.maxPrefix else {
                throw Refusal.invalid("prefix \(ip.prefix) of \(address) is outside 1-\(address.maxPrefix)")
            }
            if !address.isV6, ip.prefix <= 30, address == block.network || address == block.last {
                throw Refusal.invalid("\(block) is the network or broadcast address of \(block.subnet); give the host's address, e.g. the first one")
            }
            if address.isV6, address == block.network, ip.prefix < 127 {
                throw Refusal.invalid("\(block) is the subnet-router anycast address of \(block.subnet); give the host's address")
            }
            if let clash = blocks.first(where: { $0.overlaps(block) }) {
                throw Refusal.invalid("address blocks \(clash.subnet) and \(block.subnet) overlap")
            }
            if !ip.dhcpRanges.isEmpty || !ip.dhcpHosts.isEmpty {
                guard dhcpFamilies.insert(address.isV6).inserted else {
                    throw Refusal.invalid("more than one \(address.family) block has DHCP; libvirt serves DHCP on one block per family")
                }
            }
            for range in ip.dhcpRanges {
                guard let start = IPAddress(range.start), let end = IPAddress(range.end) else {
                    throw Refusal.invalid("DHCP range '\(range.start.prefix(64))'-'\(range.end.prefix(64))' is not two addresses")
                }
                guard block.contains(start), block.contains(end) else {
                    throw Refusal.invalid("DHCP range \(start)-\(end) is not inside \(block.subnet)")
                }
                guard start <= end else { throw Refusal.invalid("DHCP range \(start)-\(end) ends before it starts") }
                if (start...end).contains(address) {
                    throw Refusal.invalid("DHCP range \(start)-\(end) holds the network's own address \(address)")
                }
            }
            var macs = Set<String>()
            var addresses = Set<IPAddress>()
            for host in ip.dhcpHosts {
                try dhcpHost(host, in: block)
                if !host.mac.isEmpty, !macs.insert(host.mac.lowercased()).inserted {
                    throw Refusal.invalid("DHCP host MAC \(host.mac) is listed twice")
                }
                if let hostIP = IPAddress(host.ip), !addresses.insert(hostIP).inserted {
                    throw Refusal.invalid("DHCP host address \(hostIP) is listed twice")
                }
            }
            blocks.append(block)
        }
        return blocks
    }

    /// Checks one static DHCP host against the block it goes in.
    static func dhcpHost(_ host: Virthost_V1_DhcpHost, in block: IPBlock) throws {
        guard let ip = IPAddress(host.ip) else {
            throw Refusal.invalid("DHCP host ip '\(host.ip.prefix(64))' is not an address")
        }
        guard block.contains(ip) else { throw Refusal.invalid("DHCP host ip \(ip) is not inside \(block.subnet)") }
        guard ip != block.address else { throw Refusal.invalid("DHCP host ip \(ip) is the network's own address") }
        if ip.isV6 {
            guard host.mac.isEmpty else {
                throw Refusal.invalid("an IPv6 DHCP host is matched by hostname; libvirt refuses a MAC there (\(host.mac))")
            }
            guard !host.hostname.isEmpty else { throw Refusal.invalid("an IPv6 DHCP host needs a hostname") }
        } else {
            guard !host.mac.isEmpty else { throw Refusal.invalid("an IPv4 DHCP host needs the client's MAC") }
            try Validate.mac(host.mac, field: "DHCP host mac")
        }
        if !host.hostname.isEmpty { try dnsName(host.hostname, field: "DHCP hostname") }
    }

    /// A host interface name (bridge, device): what the kernel accepts.
    /// A DNS name: labels of letters, digits and '-', dot-separated.
    static func dnsName(_ name: String, field: String) throws {
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        let ok = name.utf8.count <= 253
            && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
            }
        guard ok else {
            throw Refusal.invalid("\(field) '\(name.prefix(64))' is not a DNS name (letters, digits, '-', dot-separated)")
        }
    }

    static func vlanTags(_ tags: [UInt32], field: String) throws {
        for tag in tags where tag > 4095 { throw Refusal.invalid("\(field): VLAN tag \(tag) is outside 0-4095") }
        if Set(tags).count != tags.count { throw Refusal.invalid("\(field) lists a tag twice") }
    }

    /// "0000:03:10.1" (or "03:10.1") as (domain, bus, slot, function).
    static func pciAddress(_ text: String) throws -> (domain: UInt32, bus: UInt32, slot: UInt32, function: UInt32) {
        let bad = Refusal.invalid("PCI address '\(text.prefix(64))' is not DDDD:BB:SS.F (hex, slot 00-1f, function 0-7)")
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2 { parts.insert("0000", at: 0) }
        guard parts.count == 3 else { throw bad }
        let slotFunction = parts[2].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard slotFunction.count == 2,
            parts[0].count <= 4, parts[1].count <= 2, slotFunction[0].count <= 2, slotFunction[1].count == 1,
            let domain = UInt32(parts[0], radix: 16), let bus = UInt32(parts[1], radix: 16),
            let slot = UInt32(slotFunction[0], radix: 16), let function = UInt32(slotFunction[1], radix: 16),
            slot <= 0x1f, function <= 7
        else { throw bad }
        return (domain, bus, slot, function)
    }

    static func kindName(_ kind: Virthost_V1_NetworkSpec.OneOf_Kind) -> String {
        switch kind {
        case .isolated: "isolated"
        case .nat: "nat"
        case .routed: "routed"
        case .bridged: "bridged"
        case .macvtap: "macvtap"
        case .hostdev: "hostdev"
        case .ovs: "ovs"
        }
    }

    static func modeName(_ mode: Virthost_V1_MacvtapNetwork.Mode) -> String {
        switch mode {
        case .vepa: "vepa"
        case .private: "private"
        case .passthrough: "passthrough"
        default: "bridge"
        }
    }

    // MARK: Building

    /// The `<network>` document for a spec that passed ``validate(_:)``.
    static func xml(_ spec: Virthost_V1_NetworkSpec) throws -> String {
        let network = XMLElement(name: "network")
        network.addChild(XMLElement(name: "name", stringValue: spec.name))
        if !spec.uuid.isEmpty { network.addChild(XMLElement(name: "uuid", stringValue: spec.uuid.lowercased())) }
        // One element with attributes and children, as LibXML builds it.
        func element(_ name: String, _ attributes: [(String, String)], _ children: [XMLElement] = []) -> XMLElement {
            XMLElement(name: name, attributes: attributes, children: children)
        }
        func vlan(_ tags: [UInt32], trunk: Bool = false) -> XMLElement {
            element("vlan", trunk ? [("trunk", "yes")] : [], tags.map { element("tag", [("id", String($0))]) })
        }
        switch spec.kind {
        case .isolated, nil:
            break
        case .nat(let nat):
            var children: [XMLElement] = []
            if nat.portStart != 0 {
                children.append(element("nat", [], [element("port", [("start", String(nat.portStart)), ("end", String(nat.portEnd))])]))
            }
            network.addChild(element("forward", [("mode", "nat")] + (nat.dev.isEmpty ? [] : [("dev", nat.dev)]), children))
        case .routed(let routed):
            network.addChild(element("forward", [("mode", "route")] + (routed.dev.isEmpty ? [] : [("dev", routed.dev)])))
        case .bridged(let bridged):
            network.addChild(element("forward", [("mode", "bridge")]))
            network.addChild(element("bridge", [("name", bridged.bridge)]))
        case .macvtap(let macvtap):
            network.addChild(
                element("forward", [("mode", modeName(macvtap.mode))], macvtap.interfaces.map { element("interface", [("dev", $0)]) }))
            if !macvtap.vlanTags.isEmpty { network.addChild(vlan(macvtap.vlanTags)) }
        case .hostdev(let hostdev):
            let children = try hostdev.pf.isEmpty
                ? hostdev.pciAddresses.map { text in
                    let a = try pciAddress(text)
                    return element("address", [
                        ("type", "pci"), ("domain", String(format: "0x%04x", a.domain)), ("bus", String(format: "0x%02x", a.bus)),
                        ("slot", String(format: "0x%02x", a.slot)), ("function", String(format: "0x%x", a.function)),
                    ])
                }
                : [element("pf", [("dev", hostdev.pf)])]
            network.addChild(element("forward", [("mode", "hostdev"), ("managed", hostdev.unmanaged ? "no" : "yes")], children))
            if !hostdev.vlanTags.isEmpty { network.addChild(vlan(hostdev.vlanTags)) }
        case .ovs(let ovs):
            network.addChild(element("forward", [("mode", "bridge")]))
            network.addChild(element("bridge", [("name", ovs.bridge)]))
            network.addChild(element("virtualport", [("type", "openvswitch")]))
            if !ovs.vlanTags.isEmpty { network.addChild(vlan(ovs.vlanTags, trunk: ovs.vlanTags.count > 1)) }
            for group in ovs.portGroups {
                let children = group.vlanTags.isEmpty ? [] : [vlan(group.vlanTags, trunk: group.vlanTags.count > 1)]
                network.addChild(element("portgroup", [("name", group.name)] + (group.isDefault ? [("default", "yes")] : []), children))
            }
        }
        if !spec.bridgeName.isEmpty {
            network.addChild(element("bridge", [("name", spec.bridgeName), ("stp", "on"), ("delay", "0")]))
        }
        if spec.mtu != 0 { network.addChild(element("mtu", [("size", String(spec.mtu))])) }
        if !spec.domain.isEmpty { network.addChild(element("domain", [("name", spec.domain)])) }
        for ip in spec.ips {
            guard let address = IPAddress(ip.address) else { continue }
            var attributes = [("address", address.description), ("prefix", String(ip.prefix))]
            if address.isV6 { attributes.insert(("family", "ipv6"), at: 0) }
            var dhcp: [XMLElement] = ip.dhcpRanges.map {
                element("range", [("start", IPAddress($0.start)?.description ?? $0.start), ("end", IPAddress($0.end)?.description ?? $0.end)])
            }
            dhcp += ip.dhcpHosts.map(hostElement)
            network.addChild(element("ip", attributes, dhcp.isEmpty ? [] : [element("dhcp", [], dhcp)]))
        }
        return network.xmlString
    }

    /// `<host mac name ip/>` for a static DHCP host.
    static func hostElement(_ host: Virthost_V1_DhcpHost) -> XMLElement {
        var attributes: [(String, String)] = []
        if !host.mac.isEmpty { attributes.append(("mac", host.mac.lowercased())) }
        if !host.hostname.isEmpty { attributes.append(("name", host.hostname)) }
        attributes.append(("ip", IPAddress(host.ip)?.description ?? host.ip))
        return XMLElement(name: "host", attributes: attributes)
    }

    // MARK: Reading back

    /// A `<network>` document read back as a spec, as far as it maps onto one.
    static func spec(fromXML xml: String) throws -> Virthost_V1_NetworkSpec {
        try spec(from: try XMLReader(xml))
    }

    /// The spec from a document already parsed.
    static func spec(from reader: XMLReader) throws -> Virthost_V1_NetworkSpec {
        var spec = Virthost_V1_NetworkSpec()
        spec.name = reader.string("/network/name") ?? ""
        spec.uuid = reader.string("/network/uuid") ?? ""
        let forward = reader.elements("/network/forward").first
        let mode = forward?.attr("mode") ?? (forward == nil ? nil : "nat")
        let bridge = reader.string("/network/bridge/@name") ?? ""
        let interfaces = forward?.elements(forName: "interface").compactMap { $0.attr("dev") } ?? []
        let tags = reader.elements("/network/vlan/tag").compactMap { $0.attr("id").flatMap { UInt32($0) } }
        var makesBridge = false
        switch mode {
        case nil:
            spec.isolated = Virthost_V1_IsolatedNetwork()
            makesBridge = true
        case "nat":
            var nat = Virthost_V1_NatNetwork()
            nat.dev = forward?.attr("dev") ?? ""
            if let port = forward?.child("nat")?.child("port") {
                nat.portStart = port.attr("start").flatMap { UInt32($0) } ?? 0
                nat.portEnd = port.attr("end").flatMap { UInt32($0) } ?? 0
            }
            spec.nat = nat
            makesBridge = true
        case "route":
            spec.routed = .with { $0.dev = forward?.attr("dev") ?? "" }
            makesBridge = true
        case "hostdev":
            var hostdev = Virthost_V1_HostdevNetwork()
            hostdev.unmanaged = forward?.attr("managed") == "no"
            hostdev.pf = forward?.childAttr("pf", "dev") ?? ""
            hostdev.pciAddresses = forward?.elements(forName: "address").map(pciText) ?? []
            hostdev.vlanTags = tags
            spec.hostdev = hostdev
        case "bridge" where reader.string("/network/virtualport/@type") == "openvswitch":
            var ovs = Virthost_V1_OvsNetwork()
            ovs.bridge = bridge
            ovs.vlanTags = tags
            ovs.portGroups = reader.elements("/network/portgroup").map { group in
                Virthost_V1_OvsPortGroup.with {
                    $0.name = group.attr("name") ?? ""
                    $0.isDefault = group.attr("default") == "yes"
                    $0.vlanTags = group.child("vlan")?.elements(forName: "tag").compactMap { $0.attr("id").flatMap { UInt32($0) } } ?? []
                }
            }
            spec.ovs = ovs
        case "bridge" where interfaces.isEmpty:
            spec.bridged = .with { $0.bridge = bridge }
        case "bridge", "vepa", "private", "passthrough":
            var macvtap = Virthost_V1_MacvtapNetwork()
            macvtap.mode = ["bridge": .bridge, "vepa": .vepa, "private": .private, "passthrough": .passthrough][mode!] ?? .bridge
            macvtap.interfaces = interfaces.isEmpty ? [forward?.attr("dev")].compactMap { $0 } : interfaces
            macvtap.vlanTags = tags
            spec.macvtap = macvtap
        default:
            break  // "open" and future modes: no typed kind
        }
        if makesBridge {
            spec.bridgeName = bridge
            spec.mtu = reader.string("/network/mtu/@size").flatMap { UInt32($0) } ?? 0
            spec.domain = reader.string("/network/domain/@name") ?? ""
            spec.ips = reader.elements("/network/ip").map(networkIP)
        }
        return spec
    }

    private static func networkIP(_ element: XMLElement) -> Virthost_V1_NetworkIP {
        var ip = Virthost_V1_NetworkIP()
        ip.address = element.attr("address") ?? ""
        if let prefix = element.attr("prefix").flatMap({ UInt32($0) }) {
            ip.prefix = prefix
        } else if let netmask = element.attr("netmask"), let prefix = NetworkXML.prefixLength(netmask: netmask) {
            ip.prefix = UInt32(prefix)
        } else {
            ip.prefix = (element.attr("family") == "ipv6" || ip.address.contains(":")) ? 64 : 24
        }
        let dhcp = element.child("dhcp")
        ip.dhcpRanges = dhcp?.elements(forName: "range").map { range in
            Virthost_V1_DhcpRange.with {
                $0.start = range.attr("start") ?? ""
                $0.end = range.attr("end") ?? ""
            }
        } ?? []
        ip.dhcpHosts = dhcp?.elements(forName: "host").map { host in
            Virthost_V1_DhcpHost.with {
                $0.mac = (host.attr("mac") ?? "").lowercased()
                $0.ip = host.attr("ip") ?? ""
                $0.hostname = host.attr("name") ?? ""
            }
        } ?? []
        return ip
    }

    private static func pciText(_ address: XMLElement) -> String {
        func value(_ name: String) -> UInt32 {
            let raw = address.attr(name) ?? "0"
            return raw.hasPrefix("0x") ? UInt32(raw.dropFirst(2), radix: 16) ?? 0 : UInt32(raw) ?? 0
        }
        return String(format: "%04x:%02x:%02x.%x", value("domain"), value("bus"), value("slot"), value("function"))
    }
}
