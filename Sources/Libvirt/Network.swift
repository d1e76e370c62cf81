import CLibvirt
import Foundation

/// A libvirt virtual network (`virNetworkPtr`), freed when the last reference goes away.
public final class Network: Sendable {
    /// libvirt objects may be used from any thread; freed once, in deinit.
    nonisolated(unsafe) let handle: OpaquePointer

    init(handle: OpaquePointer) { self.handle = handle }
    deinit { virNetworkFree(handle) }

    public var name: String { virNetworkGetName(handle).map { String(cString: $0) } ?? "" }

    public func uuid() throws -> String {
        try uuidString("virNetworkGetUUID") { virNetworkGetUUID(handle, $0) }
    }

    public func isActive() throws -> Bool { try check(virNetworkIsActive(handle), "virNetworkIsActive") == 1 }
    public func isPersistent() throws -> Bool { try check(virNetworkIsPersistent(handle), "virNetworkIsPersistent") == 1 }

    public func autostart() throws -> Bool {
        var value: Int32 = 0
        _ = try check(virNetworkGetAutostart(handle, &value), "virNetworkGetAutostart")
        return value != 0
    }

    public func setAutostart(_ on: Bool) throws {
        _ = try check(virNetworkSetAutostart(handle, on ? 1 : 0), "virNetworkSetAutostart")
    }

    /// The bridge the network uses; fails for kinds without one (macvtap, hostdev).
    public func bridgeName() throws -> String {
        try takeString(virNetworkGetBridgeName(handle), "virNetworkGetBridgeName")
    }

    /// The network's XML; `inactive` reads the persistent definition.
    public func xml(inactive: Bool = false) throws -> String {
        let flags = inactive ? VIR_NETWORK_XML_INACTIVE.rawValue : 0
        return try takeString(virNetworkGetXMLDesc(handle, flags), "virNetworkGetXMLDesc")
    }

    public func start() throws { _ = try check(virNetworkCreate(handle), "virNetworkCreate") }
    public func stop() throws { _ = try check(virNetworkDestroy(handle), "virNetworkDestroy") }
    public func undefine() throws { _ = try check(virNetworkUndefine(handle), "virNetworkUndefine") }

    /// Which part of a network ``update(_:section:parentIndex:xml:live:config:)`` changes.
    public enum UpdateSection: UInt32, Sendable {
        case ipDHCPHost = 4  // VIR_NETWORK_SECTION_IP_DHCP_HOST
        case ipDHCPRange = 5  // VIR_NETWORK_SECTION_IP_DHCP_RANGE
    }

    /// What ``update(_:section:parentIndex:xml:live:config:)`` does.
    public enum UpdateCommand: UInt32, Sendable {
        case modify = 1, delete = 2, addLast = 3, addFirst = 4
    }

    /// Changes one part of the network (`virNetworkUpdate`).
    /// - Parameter parentIndex: which `<ip>` element, -1 for the first that fits.
    public func update(
        _ command: UpdateCommand, section: UpdateSection, parentIndex: Int32 = -1,
        xml: String, live: Bool, config: Bool
    ) throws {
        var flags: UInt32 = 0
        if live { flags |= VIR_NETWORK_UPDATE_AFFECT_LIVE.rawValue }
        if config { flags |= VIR_NETWORK_UPDATE_AFFECT_CONFIG.rawValue }
        _ = try check(
            virNetworkUpdate(handle, command.rawValue, section.rawValue, parentIndex, xml, flags),
            "virNetworkUpdate")
    }

    /// One DHCP lease (`virNetworkDHCPLease`).
    public struct DHCPLease: Sendable, Equatable {
        public var interface: String
        public var expiry: Date
        public var type: Int32
        public var mac: String
        public var iaid: String
        public var ipAddress: String
        public var prefix: UInt32
        public var hostname: String
        public var clientID: String
    }

    /// The network's DHCP leases, optionally for one MAC.
    public func dhcpLeases(mac: String? = nil) throws -> [DHCPLease] {
        var leases: UnsafeMutablePointer<UnsafeMutablePointer<virNetworkDHCPLease>?>?
        let count = try check(virNetworkGetDHCPLeases(handle, mac, &leases, 0), "virNetworkGetDHCPLeases")
        guard let leases else { return [] }
        defer {
            for i in 0..<Int(count) { virNetworkDHCPLeaseFree(leases[i]) }
            free(leases)
        }
        func str(_ p: UnsafeMutablePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }
        return (0..<Int(count)).compactMap { i in
            guard let l = leases[i]?.pointee else { return nil }
            return DHCPLease(
                interface: str(l.iface), expiry: Date(timeIntervalSince1970: TimeInterval(l.expirytime)),
                type: l.type, mac: str(l.mac), iaid: str(l.iaid), ipAddress: str(l.ipaddr),
                prefix: l.prefix, hostname: str(l.hostname), clientID: str(l.clientid))
        }
    }
}
