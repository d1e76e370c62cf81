import VirtHostAPI

/// The networking half of ``Confinement``: operators define isolated, NAT
/// and routed networks; networks that name host bridges or devices, and raw
/// XML, need admin; an operator's NIC goes on a libvirt network, or on a
/// host bridge or device an admin listed.
enum NetworkConfinement {
    /// A network definition an operator may make.
    static func checkDefine(
        _ definition: Virthost_V1_DefineNetworkRequest.OneOf_Definition?, access: CallerAccess = .current
    ) throws {
        guard access.isConfined else { return }
        switch definition {
        case .xml:
            try access.requireAdmin("a network from raw XML can put guests on any host bridge or device")
        case .spec(let spec):
            switch spec.kind {
            case .isolated, .nat, .routed, nil:
                return
            case .bridged:
                try access.requireAdmin("a bridged network puts guests on a host bridge or NIC; operators may define isolated, nat and routed networks")
            case .macvtap:
                try access.requireAdmin("a macvtap network puts guests on host devices; operators may define isolated, nat and routed networks")
            case .hostdev:
                try access.requireAdmin("a hostdev network hands host PCI devices to guests; operators may define isolated, nat and routed networks")
            case .ovs:
                try access.requireAdmin("an Open vSwitch network puts guests on a host switch; operators may define isolated, nat and routed networks")
            }
        case nil:
            return
        }
    }

    /// A NIC source an operator may use: any libvirt network, or a listed
    /// host bridge or device.
    static func checkNIC(type: Virthost_V1_InterfaceSourceType, source: String, access: CallerAccess = .current) throws {
        guard access.isConfined else { return }
        switch type {
        case .bridge:
            try access.require(
                access.confinement.operatorBridges.contains(source), "a NIC on host bridge '\(source)' is not allowed for operators",
                allowedBy: "[access] operator_bridges in virthostd.toml")
        case .direct:
            try access.require(
                access.confinement.operatorDevices.contains(source), "a macvtap NIC on host device '\(source)' is not allowed for operators",
                allowedBy: "[access] operator_devices in virthostd.toml")
        case .tap:
            try access.require(
                access.confinement.operatorTaps.contains(source), "a NIC on host TAP device '\(source)' is not allowed for operators",
                allowedBy: "[access] operator_taps in virthostd.toml")
        case .network, .hostdev:
            return
        default:
            try access.requireAdmin("a NIC of type \(type) needs admin")
        }
    }
}
