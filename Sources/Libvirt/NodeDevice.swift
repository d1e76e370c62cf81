import CLibvirt
import Glibc

/// A libvirt node device (`virNodeDevicePtr`): a PCI function, a net
/// interface, a SCSI host..., freed when the last reference goes away.
public final class NodeDevice: Sendable {
    /// libvirt objects may be used from any thread; freed once, in deinit.
    nonisolated(unsafe) let handle: OpaquePointer

    init(handle: OpaquePointer) { self.handle = handle }
    deinit { virNodeDeviceFree(handle) }

    /// libvirt's name, e.g. `pci_0000_00_03_0`.
    public var name: String { virNodeDeviceGetName(handle).map { String(cString: $0) } ?? "" }

    /// The device's XML (virsh nodedev-dumpxml).
    public func xml() throws -> String {
        try takeString(virNodeDeviceGetXMLDesc(handle, 0), "virNodeDeviceGetXMLDesc")
    }

    /// Destroys a device made with ``Connection/createNodeDevice(xml:)`` (a vHBA).
    public func destroy() throws { _ = try check(virNodeDeviceDestroy(handle), "virNodeDeviceDestroy") }
}

extension Connection {
    /// Node devices, optionally of one capability (`pci`, `net`, `scsi_host`...), sorted by name.
    public func listNodeDevices(capability: String? = nil) throws -> [NodeDevice] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check(virConnectListAllNodeDevices(handle, &list, 0), "virConnectListAllNodeDevices")
        let devices = collect(count, list, NodeDevice.init(handle:))
        guard let capability else { return devices.sorted { $0.name < $1.name } }
        return try devices.filter { try $0.capabilities().contains(capability) }.sorted { $0.name < $1.name }
    }

    public func lookupNodeDevice(name: String) throws -> NodeDevice {
        NodeDevice(handle: try check(virNodeDeviceLookupByName(handle, name), "virNodeDeviceLookupByName"))
    }

    /// Creates a transient node device from XML (an NPIV vHBA: virsh nodedev-create).
    public func createNodeDevice(xml: String) throws -> NodeDevice {
        NodeDevice(handle: try check(virNodeDeviceCreateXML(handle, xml, 0), "virNodeDeviceCreateXML"))
    }
}

extension NodeDevice {
    /// The capability names (virNodeDeviceListCaps): `pci`, `net`, `scsi_host`, `fc_host`, `vports`...
    public func capabilities() throws -> [String] {
        let count = try check(virNodeDeviceNumOfCaps(handle), "virNodeDeviceNumOfCaps")
        guard count > 0 else { return [] }
        var names = [UnsafeMutablePointer<CChar>?](repeating: nil, count: Int(count))
        let got = try check(virNodeDeviceListCaps(handle, &names, count), "virNodeDeviceListCaps")
        defer { for name in names { free(name) } }
        return names.prefix(Int(got)).compactMap { $0.map { String(cString: $0) } }
    }
}
