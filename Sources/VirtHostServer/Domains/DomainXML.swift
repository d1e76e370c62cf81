import Foundation
import LibXML
import VirtHostAPI

/// Reads NICs and disks out of a `<domain>` document.
enum DomainXML {
    static func interfaces(_ xml: String) throws -> [Virthost_V1_Interface] {
        try XMLReader(xml).elements("/domain/devices/interface").map { element in
            var nic = Virthost_V1_Interface()
            let type = element.attr("type") ?? ""
            nic.rawType = type
            let source = element.child("source")
            switch type {
            case "network":
                nic.type = .network
                nic.source = source?.attr("network") ?? ""
            case "bridge":
                nic.type = .bridge
                nic.source = source?.attr("bridge") ?? ""
            case "direct":
                nic.type = .direct
                nic.source = source?.attr("dev") ?? ""
                nic.directMode = source?.attr("mode") ?? ""
            case "hostdev":
                nic.type = .hostdev
                nic.source = source?.child("address").map(pciAddress) ?? ""
            case "ethernet" where element.childAttr("target", "managed") == "no" && element.childAttr("target", "dev") != nil:
                // A NIC on a TAP the host made (virthost tap add): the TAP is its source.
                nic.type = .tap
                nic.source = element.childAttr("target", "dev") ?? ""
            default:
                nic.type = .other
                nic.source = source?.attr("network") ?? source?.attr("bridge") ?? source?.attr("dev") ?? ""
            }
            nic.mac = (element.childAttr("mac", "address") ?? "").lowercased()
            nic.model = element.childAttr("model", "type") ?? ""
            nic.targetDev = element.childAttr("target", "dev") ?? ""
            nic.portgroup = source?.attr("portgroup") ?? ""
            return nic
        }
    }

    static func disks(_ xml: String) throws -> [Virthost_V1_Disk] {
        try XMLReader(xml).elements("/domain/devices/disk").map { element in
            var disk = Virthost_V1_Disk()
            disk.target = element.childAttr("target", "dev") ?? ""
            disk.bus = element.childAttr("target", "bus") ?? ""
            disk.device = element.attr("device") ?? "disk"
            let source = element.child("source")
            switch element.attr("type") {
            case "volume":
                disk.sourcePool = source?.attr("pool") ?? ""
                disk.sourceVolume = source?.attr("volume") ?? ""
            case "block":
                disk.sourcePath = source?.attr("dev") ?? ""
            case "network":
                disk.sourcePath = source?.attr("name") ?? ""
            default:
                disk.sourcePath = source?.attr("file") ?? ""
            }
            disk.format = element.childAttr("driver", "type") ?? ""
            disk.cache = element.childAttr("driver", "cache") ?? ""
            disk.readOnly = element.child("readonly") != nil
            disk.serial = element.child("serial")?.stringValue ?? ""
            return disk
        }
    }

    private static func pciAddress(_ address: XMLElement) -> String {
        func hex(_ name: String, _ width: Int) -> String {
            let raw = (address.attr(name) ?? "0").replacingOccurrences(of: "0x", with: "")
            let value = Int(raw, radix: 16) ?? 0
            return String(format: "%0\(width)x", value)
        }
        return "\(hex("domain", 4)):\(hex("bus", 2)):\(hex("slot", 2)).\(hex("function", 1))"
    }
}
