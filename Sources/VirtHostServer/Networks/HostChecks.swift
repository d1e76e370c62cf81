import Foundation
import HostNetworking
import Libvirt

/// Checks of the host links (bridges, devices) that requests and networks
/// name: the name rule, the lookup, and whether this host can be checked at
/// all. Shared by networks, NICs and host plumbing.
enum HostChecks {
    /// Whether host links are real: libvirt's test driver names none.
    static func enabled(_ connection: Connection) -> Bool {
        !connection.uri.hasPrefix("test:")
    }

    /// A kernel interface name (IFNAMSIZ, no '/', whitespace or ':').
    static func linkName(_ name: String, field: String) throws {
        if let problem = HostLinks.nameProblem(name) { throw Refusal.invalid("\(field) \(problem)") }
    }

    /// A host link by name, or nil; safe on a libvirt thread.
    static func link(_ name: String) throws -> LinkInfo? {
        do {
            return try HostLinks.find(name)
        } catch let error as HostNetworkError {
            throw HostNetworkService.rpcError(error)
        }
    }

    /// Checks that the host links a network's XML names exist (libvirt itself
    /// starts bridged, macvtap and OVS networks without looking).
    static func uplinks(of xml: String, network: String) throws {
        for uplink in try NetworkXML.uplinks(xml) {
            switch uplink {
            case .bridge(let name):
                guard let link = try Self.link(name) else {
                    throw Refusal(
                        .failedPrecondition, "network '\(network)' uses host bridge '\(name)', which does not exist (create it: virthost bridge add \(name))")
                }
                guard link.kind == "bridge" else {
                    throw Refusal(
                        .failedPrecondition, "network '\(network)' uses '\(name)' as its host bridge, but it is a \(link.kind), not a bridge")
                }
            case .ovsBridge(let name):
                guard let link = try Self.link(name) else {
                    throw Refusal(
                        .failedPrecondition, "network '\(network)' uses Open vSwitch bridge '\(name)', which does not exist on this host "
                            + "(is Open vSwitch installed and running, and was the bridge made with ovs-vsctl add-br \(name)?)")
                }
                guard link.kind == "openvswitch" else {
                    throw Refusal(
                        .failedPrecondition, "network '\(network)' expects '\(name)' to be an Open vSwitch bridge, but it is a \(link.kind)")
                }
            case .device(let name, let role):
                guard try Self.link(name) != nil else {
                    throw Refusal(
                        .failedPrecondition, "network '\(network)' uses host interface '\(name)' (\(role)), which does not exist")
                }
                if role == NetworkXML.physicalFunctionRole {
                    // libvirt says only "No usable Vf's present": say why.
                    let path = "/sys/class/net/\(name)/device/sriov_numvfs"
                    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                        throw Refusal(
                        .failedPrecondition, "network '\(network)' uses '\(name)' as its SR-IOV physical function, but it is not an SR-IOV device (no \(path))")
                    }
                    if Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) == 0 {
                        throw Refusal(
                        .failedPrecondition, "network '\(network)' uses SR-IOV physical function '\(name)', which has no virtual functions enabled (write a count to \(path))")
                    }
                }
            }
        }
    }
}
