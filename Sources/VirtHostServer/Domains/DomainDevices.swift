import Foundation
import HostNetworking
import LibXML
import Libvirt
import VirtHostAPI

/// NICs and disks on one machine: resolve the scope, check, build the XML,
/// call libvirt, read the result back. Plain operations, no gRPC: the
/// handlers in DomainService decode requests, call one of these and let
/// errors map themselves (``Refusal``, `LibvirtError`).
///
/// Every operation reads the machine's state and each definition it
/// changes once (``DeviceScope``), and once more to read the result back.
struct DomainDevices {
    /// For the objects a device names (networks, pools, volumes).
    let connection: Connection
    let machine: any DeviceMachine
    /// Whether host links and paths can be checked here (not libvirt's test driver, not a remote host).
    let hostChecks: Bool

    init(connection: Connection, machine: any DeviceMachine) {
        self.connection = connection
        self.machine = machine
        hostChecks = HostChecks.enabled(connection)
    }

    // MARK: NICs

    /// Attaches a NIC and returns it as the machine's XML shows it.
    func attachNIC(_ nic: NICAttach, scope requested: Virthost_V1_DeviceScope) throws -> Virthost_V1_Interface {
        let scope = try DeviceScope(requested, of: machine)
        try checkSource(of: nic, live: scope.live)

        // The MAC: the caller's (unique on this machine) or a fresh one.
        let known = Set(try scope.definitions.flatMap { try NICElement.all(in: $0.xml).map(\.mac) })
        var mac = nic.mac
        if !mac.isEmpty, known.contains(mac) {
            throw Refusal(.alreadyExists, "domain '\(machine.name)' already has a NIC with MAC \(mac)")
        }
        while mac.isEmpty || known.contains(mac) {
            mac = String(format: "52:54:00:%02x:%02x:%02x", UInt8.random(in: 0...255), UInt8.random(in: 0...255), UInt8.random(in: 0...255))
        }

        try machine.attachDevice(xml: nic.xml(mac: mac), scope.flags)
        let readBack = try machine.xml(scope.live ? [] : .inactive)
        guard let attached = try DomainXML.interfaces(readBack).first(where: { $0.mac == mac }) else {
            throw Refusal(.internalError, "libvirt accepted the NIC \(mac) but the domain's XML does not show it")
        }
        return attached
    }

    /// The NIC's source must exist and suit it (libvirt's own errors name an MTU or a tap).
    private func checkSource(of nic: NICAttach, live: Bool) throws {
        switch nic.type {
        case .network, .hostdev:
            let network = try ObjectRef.name(nic.source).lookup(
                "network", byName: connection.lookupNetwork(name:), byUUID: connection.lookupNetwork(uuid:))
            let xml = try network.xml()
            let summary = try NetworkXML.summary(xml)
            if nic.type == .hostdev, summary.forwardMode != .hostdev {
                throw Refusal.invalid("network '\(nic.source)' is not a hostdev network (its forward mode is \(summary.forwardMode))")
            }
            if !nic.portgroup.isEmpty, !(try XMLReader(xml).elements("/network/portgroup").contains { $0.attr("name") == nic.portgroup }) {
                throw Refusal(.notFound, "network '\(nic.source)' has no port group '\(nic.portgroup)'")
            }
            if live {
                guard try network.isActive() else {
                    throw Refusal(.failedPrecondition, "network '\(nic.source)' is not active; start it first")
                }
                if hostChecks { try HostChecks.uplinks(of: xml, network: nic.source) }
            }
        case .bridge where hostChecks:
            guard let link = try HostChecks.link(nic.source) else {
                throw Refusal(.notFound, "host bridge '\(nic.source)' does not exist")
            }
            guard link.kind == "bridge" else {
                throw Refusal.invalid("host interface '\(nic.source)' is not a bridge (it is a \(link.kind)); use type DIRECT for macvtap on a device")
            }
        case .direct where hostChecks:
            guard try HostChecks.link(nic.source) != nil else {
                throw Refusal(.notFound, "host interface '\(nic.source)' does not exist")
            }
        case .tap where hostChecks:
            guard let link = try HostChecks.link(nic.source) else {
                throw Refusal(.notFound, "host TAP device '\(nic.source)' does not exist (create it: virthost tap add \(nic.source))")
            }
            guard link.kind == "tap" else {
                throw Refusal.invalid("host interface '\(nic.source)' is not a TAP device (it is a \(link.kind))")
            }
            // A TAP a running machine made for itself (vnetN) is not persistent: never share it.
            if link.tap?.persistent == false {
                throw Refusal(.failedPrecondition, "TAP device '\(nic.source)' is not persistent: it belongs to the process that opened it")
            }
        default:
            break
        }
    }

    /// Starts removing the NIC with this MAC; true when the running machine
    /// must still release it (see ``DeviceRemoval``).
    func detachNIC(mac: String, scope requested: Virthost_V1_DeviceScope) throws -> Bool {
        let scope = try DeviceScope(requested, of: machine)
        let liveNIC = try scope.liveXML.flatMap { try NICElement.all(in: $0).first { $0.mac == mac } }
        let configNIC = try scope.configXML.flatMap { try NICElement.all(in: $0).first { $0.mac == mac } }
        if scope.live, liveNIC == nil {
            throw Refusal(.notFound, "running domain '\(machine.name)' has no NIC with MAC \(mac)")
        }
        if scope.config, configNIC == nil {
            throw Refusal(.notFound, "the persistent definition of '\(machine.name)' has no NIC with MAC \(mac)")
        }
        if let liveNIC {
            // By alias: libvirt returns once the guest is asked, not after
            // its own 5 s wait, so the deadline stays ours.
            if liveNIC.alias.isEmpty {
                try machine.detachDevice(xml: liveNIC.xml, .live)
            } else {
                try machine.detachDevice(alias: liveNIC.alias, .live)
            }
        }
        if let configNIC {
            do {
                try machine.detachDevice(xml: configNIC.xml, .config)
            } catch let error as LibvirtError where scope.live {
                throw LibvirtError(
                    code: error.code, domain: error.domain,
                    message: "the live NIC \(mac) is being removed, but the persistent definition kept it: \(error.message)")
            }
        }
        return scope.live
    }

    /// Whether the running machine still has a NIC with this MAC.
    func liveNIC(mac: String) throws -> Bool {
        guard try machine.isActive() else { return false }
        return try NICElement.all(in: machine.xml([])).contains { $0.mac == mac }
    }

    // MARK: Disks

    /// Attaches a disk and returns it as the machine's XML shows it.
    func attachDisk(_ attach: DiskXML.Attach, scope requested: Virthost_V1_DeviceScope) throws -> Virthost_V1_Disk {
        let scope = try DeviceScope(requested, of: machine)
        // A target in use: say so plainly (libvirt calls it invalid XML).
        for definition in scope.definitions where try DiskXML.element(target: attach.target, inDomainXML: definition.xml) != nil {
            throw Refusal(
                .alreadyExists,
                "machine '\(machine.name)' already has a disk on target '\(attach.target)' in its \(definition.label) definition")
        }
        var format = attach.format
        if format.isEmpty, case .volume(let poolName, let volumeName) = attach.source {
            let (_, volume) = try connection.volume(pool: poolName, name: volumeName)
            format = VolumeXML.diskFormat(forVolumeFormat: VolumeXML.format(try volume.xml()))
        }
        try machine.attachDevice(xml: DiskXML.xml(attach, format: format.isEmpty ? "raw" : format), scope.flags)
        let readBack = try machine.xml(scope.live ? [] : .inactive)
        guard let disk = try DomainXML.disks(readBack).first(where: { $0.target == attach.target }) else {
            throw Refusal(.internalError, "libvirt attached the disk but its XML has no target '\(attach.target)'")
        }
        return disk
    }

    /// Starts removing the disk on this target; true when the running
    /// machine must still release it (see ``DeviceRemoval``).
    func detachDisk(target: String, scope requested: Virthost_V1_DeviceScope) throws -> Bool {
        let scope = try DeviceScope(requested, of: machine)
        var elements: [String] = []
        for definition in scope.definitions {
            guard let element = try DiskXML.element(target: target, inDomainXML: definition.xml) else {
                throw Refusal(.notFound, "machine '\(machine.name)' has no disk with target '\(target)' in its \(definition.label) definition")
            }
            elements.append(element)
        }
        // libvirt matches the element by target in each definition: one call for both.
        try machine.detachDevice(xml: elements[0], scope.flags)
        return scope.live
    }

    /// Whether the running machine still has a disk on this target.
    func liveDisk(target: String) throws -> Bool {
        guard try machine.isActive() else { return false }
        return try DiskXML.element(target: target, inDomainXML: machine.xml([])) != nil
    }
}

/// A NIC to attach, checked: everything but the machine and the scope.
struct NICAttach: Sendable, Equatable {
    static let models = ["virtio", "e1000e", "rtl8139"]
    static let directModes = ["bridge", "vepa", "private", "passthrough"]

    var type: Virthost_V1_InterfaceSourceType
    var source: String
    var directMode: String
    var portgroup: String
    /// Lower case; empty for a fresh one.
    var mac: String
    var model: String

    init(_ request: Virthost_V1_AttachInterfaceRequest) throws {
        switch request.type {
        case .network, .hostdev:
            try Validate.lookupName(request.source, field: "source network")
            if !request.directMode.isEmpty { throw Refusal.invalid("direct_mode is only for type DIRECT") }
        case .bridge:
            try HostChecks.linkName(request.source, field: "source bridge")
            if !request.directMode.isEmpty { throw Refusal.invalid("direct_mode is only for type DIRECT") }
        case .tap:
            try HostChecks.linkName(request.source, field: "source TAP")
            if !request.directMode.isEmpty { throw Refusal.invalid("direct_mode is only for type DIRECT") }
        case .direct:
            try HostChecks.linkName(request.source, field: "source device")
            if !request.directMode.isEmpty, !Self.directModes.contains(request.directMode) {
                throw Refusal.invalid("direct_mode '\(request.directMode.prefix(32))' is not one of: \(Self.directModes.joined(separator: ", "))")
            }
        default:
            throw Refusal.invalid("type must be NETWORK, BRIDGE, DIRECT, HOSTDEV or TAP")
        }
        if !request.portgroup.isEmpty {
            guard request.type == .network || request.type == .hostdev else {
                throw Refusal.invalid("portgroup is only for a NIC on a network (type NETWORK or HOSTDEV)")
            }
            try Validate.objectName(request.portgroup, field: "portgroup")
        }
        let model = request.model.isEmpty ? "virtio" : request.model
        guard Self.models.contains(model) else {
            throw Refusal.invalid("model '\(model.prefix(32))' is not one of: \(Self.models.joined(separator: ", "))")
        }
        if !request.mac.isEmpty { try Validate.mac(request.mac) }
        type = request.type
        source = request.source
        directMode = request.directMode.isEmpty ? "bridge" : request.directMode
        portgroup = request.portgroup
        mac = request.mac.lowercased()
        self.model = model
    }

    /// The `<interface>` element libvirt attaches.
    func xml(mac: String) -> String { element(mac: mac).xmlString }

    /// The `<interface>` element; an empty MAC lets libvirt choose one.
    func element(mac: String) -> XMLElement {
        let nic: XMLElement
        switch type {
        case .bridge:
            nic = XMLElement(name: "interface", attributes: [("type", "bridge")], children: [
                XMLElement(name: "source", attributes: [("bridge", source)])
            ])
        case .tap:
            // managed='no': libvirt opens the existing TAP and leaves it in place on detach.
            nic = XMLElement(name: "interface", attributes: [("type", "ethernet")], children: [
                XMLElement(name: "target", attributes: [("dev", source), ("managed", "no")])
            ])
        case .direct:
            nic = XMLElement(name: "interface", attributes: [("type", "direct")], children: [
                XMLElement(name: "source", attributes: [("dev", source), ("mode", directMode)])
            ])
        default:
            nic = XMLElement(name: "interface", attributes: [("type", "network")], children: [
                XMLElement(name: "source", attributes: [("network", source)] + (portgroup.isEmpty ? [] : [("portgroup", portgroup)]))
            ])
        }
        if !mac.isEmpty { nic.addChild(XMLElement(name: "mac", attributes: [("address", mac)])) }
        nic.addChild(XMLElement(name: "model", attributes: [("type", model)]))
        return nic
    }
}

/// A NIC as the domain XML has it: enough to find and remove it.
struct NICElement: Equatable {
    var mac: String
    var alias: String
    /// The whole element: libvirt parses it in full (a source is required)
    /// and matches it by MAC and PCI address, so it is handed back as it is.
    var xml: String

    static func all(in domainXML: String) throws -> [NICElement] {
        try XMLReader(domainXML).elements("/domain/devices/interface").compactMap { element in
            guard let mac = element.childAttr("mac", "address")?.lowercased() else { return nil }
            return NICElement(mac: mac, alias: element.childAttr("alias", "name") ?? "", xml: element.xmlString)
        }
    }
}

/// Waits for a running machine to release a device it was asked to remove:
/// libvirt returns once QEMU has asked the guest, and drops the device from
/// the live XML when the guest lets go. One wait for NICs and disks, ending
/// a little before the call's deadline so the answer still reaches the
/// caller.
enum DeviceRemoval {
    /// How long to wait when the call has no deadline at all.
    static let defaultWait = Duration.seconds(10)

    /// How long to wait for the guest: up to a little before the deadline
    /// (time to answer), ``defaultWait`` without one.
    static func budget(deadline: Duration?) -> Duration {
        guard let deadline else { return defaultWait }
        let margin = min(Duration.milliseconds(500), deadline / 5)
        return max(.zero, deadline - margin)
    }

    /// Polls `present` until it says false (completed) or the budget runs out (pending).
    static func wait(
        live: Bool, budget: Duration = budget(deadline: CallDeadline.remaining),
        poll: Duration = .milliseconds(100), present: () async throws -> Bool
    ) async throws -> Virthost_V1_DetachResult {
        var result = Virthost_V1_DetachResult()
        guard live else {
            result.completed = true
            return result
        }
        let started = ContinuousClock.now
        while true {
            let stillThere = try await present()
            let elapsed = ContinuousClock.now - started
            if !stillThere {
                result.completed = true
                break
            }
            if elapsed >= budget || Task.isCancelled {
                result.pending = true
                break
            }
            try? await Task.sleep(for: min(poll, budget - elapsed))
        }
        let elapsed = ContinuousClock.now - started
        result.waitedMs = UInt32(clamping: elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        return result
    }
}
