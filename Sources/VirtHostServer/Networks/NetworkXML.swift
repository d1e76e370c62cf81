import Foundation
import LibXML
import VirtHostAPI

/// Reads the facts a network listing shows out of a `<network>` document.
enum NetworkXML {
    struct Summary {
        var bridge = ""
        var forwardMode: Virthost_V1_ForwardMode = .isolated
        var addresses: [String] = []
    }

    static func summary(_ xml: String) throws -> Summary {
        summary(try XMLReader(xml))
    }

    /// The summary from a document already parsed.
    static func summary(_ reader: XMLReader) -> Summary {
        var summary = Summary()
        summary.bridge = reader.string("/network/bridge/@name") ?? ""
        let mode = reader.string("/network/forward/@mode")
        let hasForward = !reader.elements("/network/forward").isEmpty
        let forwardDevices = reader.elements("/network/forward/interface")
        let ovs = reader.string("/network/virtualport/@type") == "openvswitch"
        switch (hasForward, mode ?? "nat") {
        case (false, _): summary.forwardMode = .isolated
        case (true, "nat"): summary.forwardMode = .nat
        case (true, "route"): summary.forwardMode = .route
        case (true, "open"): summary.forwardMode = .open
        case (true, "hostdev"): summary.forwardMode = .hostdev
        case (true, "bridge") where ovs: summary.forwardMode = .openvswitch
        case (true, "bridge") where !summary.bridge.isEmpty: summary.forwardMode = .bridge
        case (true, "bridge"), (true, "vepa"), (true, "private"), (true, "passthrough"):
            summary.forwardMode = forwardDevices.isEmpty && mode == "bridge" ? .bridge : .macvtap
        default: summary.forwardMode = .unspecified
        }
        summary.addresses = reader.elements("/network/ip").compactMap { ip in
            guard let address = ip.attr("address") else { return nil }
            if let prefix = ip.attr("prefix") { return "\(address)/\(prefix)" }
            if let netmask = ip.attr("netmask"), let prefix = prefixLength(netmask: netmask) {
                return "\(address)/\(prefix)"
            }
            return address
        }
        return summary
    }

    /// 255.255.255.0 -> 24; nil for a netmask with holes.
    static func prefixLength(netmask: String) -> Int? {
        let octets = netmask.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4 else { return nil }
        let bits = octets.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let ones = bits.nonzeroBitCount
        return bits == (ones == 0 ? 0 : ~UInt32(0) << (32 - ones)) ? ones : nil
    }
}

extension NetworkXML {
    /// The address blocks (`<ip address prefix|netmask>`) of a `<network>`;
    /// unparseable ones are skipped (libvirt has accepted the document).
    static func ipBlocks(_ xml: String) throws -> [IPBlock] {
        try XMLReader(xml).elements("/network/ip").compactMap { ip in
            guard let address = ip.attr("address").flatMap(IPAddress.init) else { return nil }
            if let prefix = ip.attr("prefix").flatMap({ Int($0) }) { return IPBlock(address: address, prefix: prefix) }
            if let netmask = ip.attr("netmask"), let prefix = prefixLength(netmask: netmask) {
                return IPBlock(address: address, prefix: prefix)
            }
            // libvirt's default: the class of an IPv4 address, /64 for IPv6.
            if address.isV6 { return IPBlock(address: address, prefix: 64) }
            let first = address.bytes[0]
            return IPBlock(address: address, prefix: first < 128 ? 8 : first < 192 ? 16 : 24)
        }
    }

    /// A host link a network needs when it starts (or a NIC joins it).
    enum Uplink: Equatable {
        /// An existing Linux bridge (forward mode bridge).
        case bridge(String)
        /// An Open vSwitch bridge (virtualport openvswitch).
        case ovsBridge(String)
        /// A device: macvtap interfaces, NAT/route outgoing device, SR-IOV PF.
        case device(String, role: String)
    }

    static let physicalFunctionRole = "SR-IOV physical function"

    /// What host links the network's XML names and expects to exist.
    static func uplinks(_ xml: String) throws -> [Uplink] {
        let reader = try XMLReader(xml)
        guard let forward = reader.elements("/network/forward").first else { return [] }
        let mode = forward.attr("mode") ?? "nat"
        let bridge = reader.string("/network/bridge/@name") ?? ""
        let interfaces = forward.elements(forName: "interface").compactMap { $0.attr("dev") }
        switch mode {
        case "nat", "route", "open":
            return forward.attr("dev").map { [.device($0, role: "outgoing device")] } ?? []
        case "hostdev":
            return forward.childAttr("pf", "dev").map { [.device($0, role: physicalFunctionRole)] } ?? []
        case "bridge" where reader.string("/network/virtualport/@type") == "openvswitch":
            return bridge.isEmpty ? [] : [.ovsBridge(bridge)]
        case "bridge" where interfaces.isEmpty && !bridge.isEmpty:
            return [.bridge(bridge)]
        default:
            let devices = interfaces.isEmpty ? [forward.attr("dev")].compactMap { $0 } : interfaces
            return devices.map { .device($0, role: "macvtap interface") }
        }
    }
}
