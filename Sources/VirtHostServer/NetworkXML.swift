import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import VirtHostAPI

/// Reads the facts a network listing shows out of a `<network>` document.
enum NetworkXML {
    struct Summary {
        var bridge = ""
        var forwardMode: Virthost_V1_ForwardMode = .isolated
        var addresses: [String] = []
    }

    static func summary(_ xml: String) throws -> Summary {
        let reader = try XMLReader(xml)
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
