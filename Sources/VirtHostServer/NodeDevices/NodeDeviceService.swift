import Foundation
import GRPCCore
import HostNetworking
import LibXML
import Libvirt
import VirtHostAPI

/// NodeDeviceService: libvirt node devices, PCI passthrough, SR-IOV VF
/// counts and NPIV vHBAs. Reads are reader calls; everything that hands
/// hardware to a guest or changes the host is admin (``MethodRoles``).
///
/// Names and addresses are checked before libvirt or sysfs sees them: a
/// node device name is letters, digits and '_'; a PCI address is
/// `DDDD:BB:SS.F`; the only sysfs file written is a PCI function's
/// `sriov_numvfs`, found from a checked address.
struct NodeDeviceService: Virthost_V1_NodeDeviceService.SimpleServiceProtocol {
    let hypervisor: HypervisorConnection

    static let capabilities: Set<String> = [
        "system", "pci", "usb_device", "usb", "net", "scsi_host", "scsi_target", "scsi", "storage", "fc_host", "vports",
        "scsi_generic", "drm", "mdev_types", "mdev", "ccw", "css", "vdpa", "ap_queue", "ap_card", "ap_matrix", "vpd",
    ]

    func listNodeDevices(request: Virthost_V1_ListNodeDevicesRequest, context: ServerContext) async throws -> Virthost_V1_ListNodeDevicesResponse {
        if !request.capability.isEmpty, !Self.capabilities.contains(request.capability) {
            throw Refusal.invalid("capability '\(request.capability.prefix(32))' is not one of: \(Self.capabilities.sorted().joined(separator: ", "))")
        }
        let page = try Page(.nodeDevices, size: request.pageSize, token: request.pageToken, prefix: request.namePrefix)
        return try await hypervisor.run { connection in
            // Names come with the list; the XML (a round trip each) is read
            // in name order only until the page is full and one more matches.
            var response = Virthost_V1_ListNodeDevicesResponse()
            var last = ""
            for device in try connection.listNodeDevices() where page.admits(device.name) {
                // A device gone since the list is skipped.
                guard let info = try? NodeDeviceXML.device(device.xml(), includeXML: false),
                    request.capability.isEmpty || info.capabilities.contains(request.capability)
                else { continue }
                if page.size > 0, response.devices.count == page.size {
                    response.nextPageToken = page.token(after: last)
                    break
                }
                response.devices.append(info)
                last = device.name
            }
            return response
        }
    }

    func getNodeDevice(request: Virthost_V1_GetNodeDeviceRequest, context: ServerContext) async throws -> Virthost_V1_NodeDevice {
        let name = try Self.deviceName(request.name)
        return try await hypervisor.run { connection in
            try NodeDeviceXML.device(Self.lookup(connection, name).xml())
        }
    }

    func listAssignableDevices(request: Virthost_V1_ListAssignableDevicesRequest, context: ServerContext) async throws -> Virthost_V1_ListNodeDevicesResponse {
        try await hypervisor.run { connection in
            var response = Virthost_V1_ListNodeDevicesResponse()
            let devices = try connection.listNodeDevices(capability: "pci").compactMap { device -> Virthost_V1_NodeDevice? in
                let xml = try device.xml()
                if let klass = NodeDeviceXML.pciClass(xml), klass >> 16 == 0x06 { return nil }  // bridges stay with the host
                return try NodeDeviceXML.device(xml, includeXML: false)
            }
            // With an IOMMU, VFIO can hand over only devices in an IOMMU group.
            let iommu = devices.contains { $0.hasIommuGroup }
            response.devices = devices.filter { !iommu || $0.hasIommuGroup }
            return response
        }
    }

    func listHostdevs(request: Virthost_V1_ListHostdevsRequest, context: ServerContext) async throws -> Virthost_V1_ListHostdevsResponse {
        let ref = try ObjectRef(request.domain)
        return try await hypervisor.run(machine: ref) { connection in
            let domain = try connection.domain(ref)
            var response = Virthost_V1_ListHostdevsResponse()
            response.hostdevs = try NodeDeviceXML.hostdevs(inDomainXML: domain.xml(request.inactive ? .inactive : [])).map(\.hostdev)
            return response
        }
    }

    func attachHostdev(request: Virthost_V1_HostdevRequest, context: ServerContext) async throws -> Virthost_V1_Hostdev {
        let ref = try ObjectRef(request.domain)
        let address = try Self.pciAddress(request.pciAddress)
        return try await hypervisor.run(machine: ref) { connection in
            // The device must be the host's, and not a bridge (the guest would take a bus with it).
            let device = try Self.lookup(connection, address.nodeDeviceName)
            if let klass = NodeDeviceXML.pciClass(try device.xml()), klass >> 16 == 0x06 {
                throw Refusal.invalid("PCI device \(address) is a bridge; bridges stay with the host")
            }
            let machine = try connection.domain(ref)
            let scope = try DeviceScope(request.scope, of: machine)
            for definition in scope.definitions
            where try NodeDeviceXML.hostdevs(inDomainXML: definition.xml).contains(where: { $0.hostdev.pciAddress == address.description }) {
                throw Refusal(.alreadyExists, "machine '\(machine.name)' already has PCI device \(address) in its \(definition.label) definition")
            }
            try machine.attachDevice(xml: NodeDeviceXML.hostdev(address, managed: request.managed), scope.flags)
            let readBack = try machine.xml(scope.live ? [] : .inactive)
            guard let attached = try NodeDeviceXML.hostdevs(inDomainXML: readBack).first(where: { $0.hostdev.pciAddress == address.description })
            else { throw Refusal(.internalError, "libvirt attached PCI device \(address) but the machine's XML does not show it") }
            return attached.hostdev
        }
    }

    func detachHostdev(request: Virthost_V1_HostdevRequest, context: ServerContext) async throws -> Virthost_V1_DetachResult {
        let ref = try ObjectRef(request.domain)
        let address = try Self.pciAddress(request.pciAddress)
        let live = try await hypervisor.run(machine: ref) { connection -> Bool in
            let machine = try connection.domain(ref)
            let scope = try DeviceScope(request.scope, of: machine)
            func element(_ xml: String?, _ label: String) throws -> (hostdev: Virthost_V1_Hostdev, xml: String)? {
                guard let xml else { return nil }
                guard let found = try NodeDeviceXML.hostdevs(inDomainXML: xml).first(where: { $0.hostdev.pciAddress == address.description }) else {
                    throw Refusal(.notFound, "machine '\(machine.name)' has no PCI device \(address) in its \(label) definition")
                }
                return found
            }
            let liveElement = try element(scope.liveXML, "live")
            let configElement = try element(scope.configXML, "persistent")
            if let liveElement {
                if liveElement.hostdev.alias.isEmpty {
                    try machine.detachDevice(xml: liveElement.xml, .live)
                } else {
                    try machine.detachDevice(alias: liveElement.hostdev.alias, .live)
                }
            }
            if let configElement { try machine.detachDevice(xml: configElement.xml, .config) }
            return scope.live
        }
        return try await DeviceRemoval.wait(live: live) {
            try await hypervisor.run(machine: ref) { connection in
                guard let domain = try? connection.domain(ref), try domain.isActive() else { return false }
                return try NodeDeviceXML.hostdevs(inDomainXML: domain.xml([])).contains { $0.hostdev.pciAddress == address.description }
            }
        }
    }

    func setSriovVfs(request: Virthost_V1_SetSriovVfsRequest, context: ServerContext) async throws -> Virthost_V1_NodeDevice {
        guard !request.device.isEmpty else { throw Refusal.invalid("device is empty: name the physical function") }
        // A PCI address, a node device name or a net interface: all resolve to a checked PCI address.
        let given = request.device
        let address: PCIAddress? = PCIAddress(given)
        if address == nil, HostLinks.nameProblem(given) != nil, (try? Self.deviceName(given)) == nil {
            throw Refusal.invalid("device '\(given.prefix(32))' is not a PCI address, a node device name or an interface name")
        }
        let vfs = request.vfs
        return try await hypervisor.run { connection in
            let pci: PCIAddress
            if let address {
                pci = address
            } else if given.hasPrefix("pci_") {
                guard let found = PCIAddress(element: try Self.addressElement(of: Self.lookup(connection, given))) else {
                    throw Refusal.invalid("'\(given)' is not a PCI device")
                }
                pci = found
            } else {
                // A net interface: its device link names the PCI function.
                let link = "/sys/class/net/\(given)/device"
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link),
                    let found = PCIAddress((target as NSString).lastPathComponent)
                else {
                    throw Refusal(.failedPrecondition, "interface '\(given)' is not a PCI device (no \(link)); it has no SR-IOV")
                }
                pci = found
            }
            let folder = pci.sysfsPath
            guard FileManager.default.fileExists(atPath: folder) else {
                throw Refusal(.notFound, "PCI device \(pci) does not exist on this host")
            }
            guard let totalText = try? String(contentsOfFile: "\(folder)/sriov_totalvfs", encoding: .utf8),
                let total = UInt32(totalText.trimmingCharacters(in: .whitespacesAndNewlines))
            else {
                throw Refusal(.failedPrecondition, "PCI device \(pci) has no SR-IOV capability (no \(folder)/sriov_totalvfs)")
            }
            guard vfs <= total else { throw Refusal.invalid("PCI device \(pci) supports at most \(total) virtual functions, not \(vfs)") }
            let current = UInt32((try? String(contentsOfFile: "\(folder)/sriov_numvfs", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            if current != vfs {
                // The kernel changes a non-zero count only through zero.
                if current != 0, vfs != 0 { try Self.writeSysfs("\(folder)/sriov_numvfs", "0") }
                try Self.writeSysfs("\(folder)/sriov_numvfs", String(vfs))
            }
            return try NodeDeviceXML.device(Self.lookup(connection, pci.nodeDeviceName).xml())
        }
    }

    func createVhba(request: Virthost_V1_CreateVhbaRequest, context: ServerContext) async throws -> Virthost_V1_NodeDevice {
        guard request.parent.hasPrefix("scsi_host"), request.parent.count <= 20, request.parent.count > 9,
            request.parent.dropFirst(9).allSatisfy(\.isNumber), request.parent.dropFirst(9).allSatisfy(\.isASCII)
        else { throw Refusal.invalid("parent '\(request.parent.prefix(32))' is not a SCSI host name like scsi_host5") }
        for (field, value) in [("wwnn", request.wwnn), ("wwpn", request.wwpn)] {
            guard value.count == 16, value.allSatisfy(\.isHexDigit), value.allSatisfy(\.isASCII) else {
                throw Refusal.invalid("\(field) '\(value.prefix(32))' is not 16 hex digits (e.g. 5001a4a93526d0a1)")
            }
        }
        return try await hypervisor.run { connection in
            let parent = try Self.lookup(connection, request.parent)
            let info = try NodeDeviceXML.device(parent.xml(), includeXML: false)
            guard info.capabilities.contains("vports") else {
                throw Refusal(
                    .failedPrecondition,
                    "SCSI host '\(request.parent)' cannot make virtual ports (no vports capability: it is not an NPIV-capable Fibre Channel HBA)")
            }
            let created = try connection.createNodeDevice(
                xml: NodeDeviceXML.vhba(parent: request.parent, wwnn: request.wwnn.lowercased(), wwpn: request.wwpn.lowercased()))
            return try NodeDeviceXML.device(created.xml())
        }
    }

    /// Only vHBAs: a device with an fc_host capability whose parent has vports.
    func destroyNodeDevice(request: Virthost_V1_GetNodeDeviceRequest, context: ServerContext) async throws -> Virthost_V1_Empty {
        let name = try Self.deviceName(request.name)
        return try await hypervisor.run { connection in
            let device = try Self.lookup(connection, name)
            let info = try NodeDeviceXML.device(device.xml(), includeXML: false)
            let parent = info.parent.isEmpty ? nil : try? NodeDeviceXML.device(Self.lookup(connection, info.parent).xml(), includeXML: false)
            guard info.capabilities.contains("fc_host"), parent?.capabilities.contains("vports") == true else {
                throw Refusal(.failedPrecondition, "node device '\(name)' is not a vHBA made with create-vhba; only those can be destroyed")
            }
            try device.destroy()
            return Virthost_V1_Empty()
        }
    }

    // MARK: Helpers

    /// A node device name (letters, digits, '_'), or a PCI address turned into one.
    static func deviceName(_ text: String) throws -> String {
        if let address = PCIAddress(text) { return address.nodeDeviceName }
        guard !text.isEmpty, text.utf8.count <= 128, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw Refusal.invalid("node device '\(text.prefix(32))' is not a node device name (like pci_0000_00_03_0) or a PCI address")
        }
        return text
    }

    static func pciAddress(_ text: String) throws -> PCIAddress {
        guard let address = PCIAddress(text) else {
            throw Refusal.invalid("PCI address '\(text.prefix(32))' is not DDDD:BB:SS.F (hex, e.g. 0000:03:00.1)")
        }
        return address
    }

    static func lookup(_ connection: Connection, _ name: String) throws -> NodeDevice {
        do {
            return try connection.lookupNodeDevice(name: name)
        } catch let error as LibvirtError where error.code == .noNodeDevice {
            throw Refusal(.notFound, "node device '\(name)' does not exist")
        }
    }

    static func addressElement(of device: NodeDevice) throws -> XMLElement {
        let reader = try XMLReader(try device.xml())
        let address = XMLElement(name: "address")
        for field in ["domain", "bus", "slot", "function"] {
            guard let value = reader.string("/device/capability[@type='pci']/\(field)").flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) })
            else { throw Refusal.invalid("'\(device.name)' is not a PCI device") }
            address.setAttribute(field, String(value))
        }
        return address
    }

    static func writeSysfs(_ path: String, _ value: String) throws {
        do {
            try value.write(toFile: path, atomically: false, encoding: .utf8)
        } catch {
            throw Refusal(.failedPrecondition, "cannot write \(value) to \(path): \(error.localizedDescription)")
        }
    }
}
