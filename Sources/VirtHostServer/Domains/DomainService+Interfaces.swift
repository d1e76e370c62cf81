import Foundation
import LibXML
import GRPCCore
import HostNetworking
import Libvirt
import VirtHostAPI

// NICs on machines: attach and detach (virsh attach-interface / detach-interface).
extension DomainService {
    static let nicModels = ["virtio", "e1000e", "rtl8139"]
    static let directModes = ["bridge", "vepa", "private", "passthrough"]
    /// How long a live detach waits for the guest when the call has no deadline.
    static let defaultDetachWait = Duration.seconds(10)

    func attachInterface(request: Virthost_V1_AttachInterfaceRequest, context: ServerContext) async throws -> Virthost_V1_Interface {
        let ref = try ObjectRef(request.domain)
        let source = request.source
        switch request.type {
        case .network, .hostdev:
            try Validate.lookupName(source, field: "source network")
            if !request.directMode.isEmpty { throw RPCError.invalid("direct_mode is only for type DIRECT") }
        case .bridge:
            try NetworkSpecXML.linkName(source, field: "source bridge")
            if !request.directMode.isEmpty { throw RPCError.invalid("direct_mode is only for type DIRECT") }
        case .direct:
            try NetworkSpecXML.linkName(source, field: "source device")
            if !request.directMode.isEmpty, !Self.directModes.contains(request.directMode) {
                throw RPCError.invalid("direct_mode '\(request.directMode.prefix(32))' is not one of: \(Self.directModes.joined(separator: ", "))")
            }
        default:
            throw RPCError.invalid("type must be NETWORK, BRIDGE, DIRECT or HOSTDEV")
        }
        if !request.portgroup.isEmpty {
            guard request.type == .network || request.type == .hostdev else {
                throw RPCError.invalid("portgroup is only for a NIC on a network (type NETWORK or HOSTDEV)")
            }
            try Validate.objectName(request.portgroup, field: "portgroup")
        }
        let model = request.model.isEmpty ? "virtio" : request.model
        guard Self.nicModels.contains(model) else {
            throw RPCError.invalid("model '\(model.prefix(32))' is not one of: \(Self.nicModels.joined(separator: ", "))")
        }
        if !request.mac.isEmpty { try Validate.mac(request.mac) }
        let scope = request.scope

        return try await hypervisor.run { connection in
            let domain = try connection.domain(ref)
            let (live, config) = try Self.resolve(scope, domain)
            let hostChecks = NetworkService.hostChecks(connection)

            // The source must exist (libvirt's own errors name an MTU or a tap).
            switch request.type {
            case .network, .hostdev:
                let network = try ObjectRef.name(source).lookup(
                    "network", byName: connection.lookupNetwork(name:), byUUID: connection.lookupNetwork(uuid:))
                let xml = try network.xml()
                let summary = try NetworkXML.summary(xml)
                if request.type == .hostdev, summary.forwardMode != .hostdev {
                    throw RPCError.invalid("network '\(source)' is not a hostdev network (its forward mode is \(summary.forwardMode))")
                }
                if !request.portgroup.isEmpty,
                    !(try XMLReader(xml).elements("/network/portgroup").contains { $0.attr("name") == request.portgroup })
                {
                    throw RPCError(code: .notFound, message: "network '\(source)' has no port group '\(request.portgroup)'")
                }
                if live {
                    guard try network.isActive() else {
                        throw RPCError(code: .failedPrecondition, message: "network '\(source)' is not active; start it first")
                    }
                    try NetworkService.checkUplinks(connection, xml, network: source)
                }
            case .bridge where hostChecks:
                guard let link = try HostNetworkService.hostLink(source) else {
                    throw RPCError(code: .notFound, message: "host bridge '\(source)' does not exist")
                }
                guard link.kind == "bridge" else {
                    throw RPCError.invalid("host interface '\(source)' is not a bridge (it is a \(link.kind)); use type DIRECT for macvtap on a device")
                }
            case .direct where hostChecks:
                guard try HostNetworkService.hostLink(source) != nil else {
                    throw RPCError(code: .notFound, message: "host interface '\(source)' does not exist")
                }
            default:
                break
            }

            // The MAC: the caller's (unique on this machine) or a fresh one.
            var known = Set<String>()
            if try domain.isActive() { known.formUnion(try Self.nics(try domain.xml()).map(\.mac)) }
            if try domain.isPersistent() { known.formUnion(try Self.nics(try domain.xml(.inactive)).map(\.mac)) }
            var mac = request.mac.lowercased()
            if !mac.isEmpty, known.contains(mac) {
                throw RPCError(code: .alreadyExists, message: "domain '\(domain.name)' already has a NIC with MAC \(mac)")
            }
            while mac.isEmpty || known.contains(mac) {
                mac = String(format: "52:54:00:%02x:%02x:%02x", UInt8.random(in: 0...255), UInt8.random(in: 0...255), UInt8.random(in: 0...255))
            }

            let xml = Self.interfaceXML(
                type: request.type, source: source, mode: request.directMode.isEmpty ? "bridge" : request.directMode,
                portgroup: request.portgroup, mac: mac, model: model)
            var flags: Libvirt.Domain.DeviceModifyFlags = []
            if live { flags.insert(.live) }
            if config { flags.insert(.config) }
            try domain.attachDevice(xml: xml, flags)

            let readBack = try live ? domain.xml() : domain.xml(.inactive)
            guard var nic = try DomainXML.interfaces(readBack).first(where: { $0.mac == mac }) else {
                throw RPCError(code: .internalError, message: "libvirt accepted the NIC \(mac) but the domain's XML does not show it")
            }
            nic.portgroup = try XMLReader(readBack).elements("/domain/devices/interface")
                .first { $0.childAttr("mac", "address")?.lowercased() == mac }?.childAttr("source", "portgroup") ?? ""
            return nic
        }
    }

    func detachInterface(request: Virthost_V1_DetachInterfaceRequest, context: ServerContext) async throws -> Virthost_V1_DetachResult {
        try await detachInterface(request, wait: Self.defaultDetachWait)
    }

    /// The full form of the call, to see its deadline: a live detach waits
    /// for the guest until shortly before it.
    func detachInterface(
        request: ServerRequest<Virthost_V1_DetachInterfaceRequest>, context: ServerContext
    ) async throws -> ServerResponse<Virthost_V1_DetachResult> {
        let wait = Self.waitBudget(deadline: Self.timeout(request.metadata))
        return ServerResponse(message: try await detachInterface(request.message, wait: wait))
    }

    func detachInterface(_ request: Virthost_V1_DetachInterfaceRequest, wait: Duration) async throws -> Virthost_V1_DetachResult {
        let ref = try ObjectRef(request.domain)
        guard !request.mac.isEmpty else { throw RPCError.invalid("mac is empty: name the NIC to remove by its MAC") }
        try Validate.mac(request.mac)
        let mac = request.mac.lowercased()
        let scope = request.scope
        let started = ContinuousClock.now

        let live = try await hypervisor.run { connection -> Bool in
            let domain = try connection.domain(ref)
            let (live, config) = try Self.resolve(scope, domain)
            let liveNIC = live ? try Self.nics(try domain.xml()).first { $0.mac == mac } : nil
            let configNIC = config ? try Self.nics(try domain.xml(.inactive)).first { $0.mac == mac } : nil
            if live, liveNIC == nil {
                throw RPCError(code: .notFound, message: "running domain '\(domain.name)' has no NIC with MAC \(mac)")
            }
            if config, configNIC == nil {
                throw RPCError(code: .notFound, message: "the persistent definition of '\(domain.name)' has no NIC with MAC \(mac)")
            }
            if let liveNIC {
                // By alias: libvirt returns once the guest is asked, not after
                // its own 5 s wait, so the deadline stays ours.
                if liveNIC.alias.isEmpty {
                    try domain.detachDevice(xml: liveNIC.detachXML, .live)
                } else {
                    try domain.detachDevice(alias: liveNIC.alias, .live)
                }
            }
            if let configNIC {
                do {
                    try domain.detachDevice(xml: configNIC.detachXML, .config)
                } catch let error as LibvirtError where live {
                    throw LibvirtError(
                        code: error.code, domain: error.domain,
                        message: "the live NIC \(mac) is being removed, but the persistent definition kept it: \(error.message)")
                }
            }
            return live
        }

        var result = Virthost_V1_DetachResult()
        guard live else {
            result.completed = true
            return result
        }
        // Wait for the guest to release it: libvirt drops it from the live XML then.
        while true {
            let present = try await hypervisor.run { connection -> Bool in
                guard let domain = try? connection.domain(ref), try domain.isActive() else { return false }
                return try Self.nics(try domain.xml()).contains { $0.mac == mac }
            }
            let elapsed = ContinuousClock.now - started
            if !present {
                result.completed = true
                break
            }
            if elapsed >= wait || Task.isCancelled {
                result.pending = true
                break
            }
            try? await Task.sleep(for: min(.milliseconds(100), wait - elapsed))
        }
        let elapsed = ContinuousClock.now - started
        result.waitedMs = UInt32(clamping: elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        return result
    }

    // MARK: Helpers

    /// virsh's rule: --live and/or --config as asked; neither is --current
    /// (the running machine when it runs, its definition otherwise).
    static func resolve(_ scope: Virthost_V1_DeviceScope, _ domain: Libvirt.Domain) throws -> (live: Bool, config: Bool) {
        let active = try domain.isActive()
        let persistent = try domain.isPersistent()
        let live = scope.live || (!scope.config && active)
        let config = scope.config || (!scope.live && !active)
        if live, !active {
            throw RPCError(
                code: .failedPrecondition,
                message: "domain '\(domain.name)' is not running; a live change needs a running machine (use the persistent scope)")
        }
        if config, !persistent {
            throw RPCError(
                code: .failedPrecondition, message: "domain '\(domain.name)' is transient: it has no persistent definition to change")
        }
        return (live, config)
    }

    /// A NIC as the domain XML has it: enough to find and remove it.
    struct NIC {
        var mac: String
        var alias: String
        var detachXML: String
    }

    static func nics(_ xml: String) throws -> [NIC] {
        try XMLReader(xml).elements("/domain/devices/interface").compactMap { element in
            guard let mac = element.childAttr("mac", "address")?.lowercased() else { return nil }
            // libvirt parses the element in full (a source is required) and
            // matches it by MAC and PCI address: hand it back as it is.
            return NIC(mac: mac, alias: element.childAttr("alias", "name") ?? "", detachXML: element.xmlString)
        }
    }

    /// `<interface type=...>` for a new NIC.
    static func interfaceXML(
        type: Virthost_V1_InterfaceSourceType, source: String, mode: String, portgroup: String, mac: String, model: String
    ) -> String {
        func element(_ name: String, _ attributes: [(String, String)]) -> XMLElement {
            let element = XMLElement(name: name)
            for (key, value) in attributes { element.addAttribute(XMLNode.attribute(withName: key, stringValue: value) as! XMLNode) }
            return element
        }
        let nic: XMLElement
        switch type {
        case .bridge:
            nic = element("interface", [("type", "bridge")])
            nic.addChild(element("source", [("bridge", source)]))
        case .direct:
            nic = element("interface", [("type", "direct")])
            nic.addChild(element("source", [("dev", source), ("mode", mode)]))
        default:
            nic = element("interface", [("type", "network")])
            nic.addChild(element("source", [("network", source)] + (portgroup.isEmpty ? [] : [("portgroup", portgroup)])))
        }
        nic.addChild(element("mac", [("address", mac)]))
        nic.addChild(element("model", [("type", model)]))
        return nic.xmlString
    }

    /// The call's `grpc-timeout` (digits and a unit: H, M, S, m, u, n), if any.
    static func timeout(_ metadata: Metadata) -> Duration? {
        guard let value = metadata["grpc-timeout"].first(where: { _ in true }), case .string(let text) = value,
            let unit = text.last, let amount = Int64(text.dropLast()), amount >= 0
        else { return nil }
        switch unit {
        case "H": return .seconds(amount * 3600)
        case "M": return .seconds(amount * 60)
        case "S": return .seconds(amount)
        case "m": return .milliseconds(amount)
        case "u": return .microseconds(amount)
        case "n": return .nanoseconds(amount)
        default: return nil
        }
    }

    /// How long to wait for the guest: up to a little before the deadline
    /// (time to answer), ``defaultDetachWait`` when the call has none.
    static func waitBudget(deadline: Duration?) -> Duration {
        guard let deadline else { return defaultDetachWait }
        let margin = min(Duration.milliseconds(500), deadline / 5)
        return max(.zero, deadline - margin)
    }
}
