import Foundation
import LibXML
import VirtHostAPI

/// Node device XML (virsh nodedev-dumpxml) read into ``Virthost_V1_NodeDevice``,
/// and the XML the agent builds: `<hostdev>` for PCI passthrough and the
/// vHBA device for NPIV.
enum NodeDeviceXML {
    /// Reads libvirt's node device XML.
    static func device(_ xml: String, includeXML: Bool = true) throws -> Virthost_V1_NodeDevice {
        let reader = try XMLReader(xml)
        var device = Virthost_V1_NodeDevice()
        device.name = reader.string("/device/name") ?? ""
        device.parent = reader.string("/device/parent") ?? ""
        device.driver = reader.string("/device/driver/name") ?? ""
        var capabilities: [String] = []
        for capability in reader.elements("/device/capability") {
            let type = capability.attr("type") ?? ""
            capabilities.append(type)
            switch type {
            case "pci":
                func number(_ name: String) -> Int? { capability.child(name)?.stringValue.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
                if let domain = number("domain"), let bus = number("bus"), let slot = number("slot"), let function = number("function") {
                    device.pciAddress = PCIAddress(domain: domain, bus: bus, slot: slot, function: function).description
                }
                if let product = capability.child("product") {
                    device.productID = product.attr("id") ?? ""
                    device.product = product.stringValue ?? ""
                }
                if let vendor = capability.child("vendor") {
                    device.vendorID = vendor.attr("id") ?? ""
                    device.vendor = vendor.stringValue ?? ""
                }
                if let group = capability.childAttr("iommuGroup", "number").flatMap(UInt32.init) { device.iommuGroup = group }
                for nested in capability.elements(forName: "capability") {
                    let nestedType = nested.attr("type") ?? ""
                    capabilities.append(nestedType)
                    if nestedType == "virt_functions" {
                        if let count = nested.attr("maxCount").flatMap(UInt32.init) { device.sriovMaxVfs = count }
                        device.sriovVfs = nested.elements(forName: "address").compactMap(PCIAddress.init(element:)).map(\.description)
                    }
                    if nestedType == "phys_function", let address = nested.child("address").flatMap(PCIAddress.init(element:)) {
                        device.sriovPf = address.description
                    }
                }
            case "net":
                device.interface = capability.child("interface")?.stringValue ?? ""
            case "scsi_host":
                if let host = capability.child("host")?.stringValue.flatMap({ UInt32($0.trimmingCharacters(in: .whitespaces)) }) {
                    device.scsiHost = host
                }
                for nested in capability.elements(forName: "capability") {
                    let nestedType = nested.attr("type") ?? ""
                    capabilities.append(nestedType == "vport_ops" ? "vports" : nestedType)
                    if nestedType == "fc_host" {
                        device.wwnn = nested.child("wwnn")?.stringValue ?? ""
                        device.wwpn = nested.child("wwpn")?.stringValue ?? ""
                    }
                }
            default:
                break
            }
        }
        device.capabilities = capabilities
        if includeXML { device.xml = xml }
        return device
    }

    /// A PCI device's class (`0x060400` for a PCI bridge), nil when libvirt gives none.
    static func pciClass(_ xml: String) -> Int? {
        guard let text = (try? XMLReader(xml))?.string("/device/capability[@type='pci']/class") else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return trimmed.hasPrefix("0x") ? Int(trimmed.dropFirst(2), radix: 16) : Int(trimmed)
    }

    /// `<hostdev mode='subsystem' type='pci'>` for one PCI function.
    static func hostdev(_ address: PCIAddress, managed: Bool) -> String {
        XMLElement(name: "hostdev", attributes: [("mode", "subsystem"), ("type", "pci"), ("managed", managed ? "yes" : "no")], children: [
            XMLElement(name: "source", attributes: [], children: [address.element()])
        ]).xmlString
    }

    /// The machine's PCI hostdevs: their address, managed flag, alias and element.
    static func hostdevs(inDomainXML xml: String) throws -> [(hostdev: Virthost_V1_Hostdev, xml: String)] {
        try XMLReader(xml).elements("/domain/devices/hostdev").compactMap { element in
            guard element.attr("type") == "pci", let address = element.child("source")?.child("address").flatMap(PCIAddress.init(element:))
            else { return nil }
            var hostdev = Virthost_V1_Hostdev()
            hostdev.pciAddress = address.description
            hostdev.managed = element.attr("managed") == "yes"
            hostdev.alias = element.childAttr("alias", "name") ?? ""
            return (hostdev, element.xmlString)
        }
    }

    /// The device XML that makes an NPIV vHBA on `parent`.
    static func vhba(parent: String, wwnn: String, wwpn: String) -> String {
        XMLElement(name: "device", attributes: [], children: [
            XMLElement(name: "parent", stringValue: parent),
            XMLElement(name: "capability", attributes: [("type", "scsi_host")], children: [
                XMLElement(name: "capability", attributes: [("type", "fc_host")], children: [
                    XMLElement(name: "wwnn", stringValue: wwnn),
                    XMLElement(name: "wwpn", stringValue: wwpn),
                ])
            ]),
        ]).xmlString
    }
}

/// A PCI function address, `DDDD:BB:SS.F`.
struct PCIAddress: Sendable, Hashable, CustomStringConvertible {
    var domain: Int
    var bus: Int
    var slot: Int
    var function: Int

    /// Parses `DDDD:BB:SS.F` (hex; the domain may be left out: `BB:SS.F`).
    init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3, text.utf8.count <= 13 else { return nil }
        let domainText = parts.count == 3 ? parts[0] : "0000"
        let busText = parts[parts.count - 2]
        let slotFunction = parts[parts.count - 1].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard slotFunction.count == 2 else { return nil }
        func hex(_ s: String, digits: ClosedRange<Int>) -> Int? {
            guard digits.contains(s.count), s.allSatisfy(\.isHexDigit) else { return nil }
            return Int(s, radix: 16)
        }
        guard let domain = hex(domainText, digits: 4...4), let bus = hex(busText, digits: 2...2),
            let slot = hex(slotFunction[0], digits: 2...2), slot <= 0x1f, let function = hex(slotFunction[1], digits: 1...1), function <= 7
        else { return nil }
        self.init(domain: domain, bus: bus, slot: slot, function: function)
    }

    init(domain: Int, bus: Int, slot: Int, function: Int) {
        self.domain = domain
        self.bus = bus
        self.slot = slot
        self.function = function
    }

    /// From an `<address domain='0x0000' bus='0x03' slot='0x00' function='0x1'/>` element.
    init?(element: XMLElement) {
        func value(_ name: String) -> Int? {
            guard let text = element.attr(name) else { return nil }
            return text.hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : Int(text)
        }
        guard let domain = value("domain"), let bus = value("bus"), let slot = value("slot"), let function = value("function") else {
            return nil
        }
        self.init(domain: domain, bus: bus, slot: slot, function: function)
    }

    var description: String { String(format: "%04x:%02x:%02x.%x", domain, bus, slot, function) }
    /// libvirt's node device name, `pci_DDDD_BB_SS_F`.
    var nodeDeviceName: String { String(format: "pci_%04x_%02x_%02x_%x", domain, bus, slot, function) }
    /// The PCI function's sysfs folder.
    var sysfsPath: String { "/sys/bus/pci/devices/\(description)" }

    func element() -> XMLElement {
        XMLElement(name: "address", attributes: [
            ("domain", String(format: "0x%04x", domain)), ("bus", String(format: "0x%02x", bus)),
            ("slot", String(format: "0x%02x", slot)), ("function", String(format: "0x%x", function)),
        ])
    }
}
