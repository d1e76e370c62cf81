import Libvirt
import VirtHostAPI

/// What a device change needs of one machine: libvirt's calls on a domain.
///
/// `Libvirt.Domain` is the real one. Unit tests use an in-memory machine,
/// since libvirt's `test:///` driver cannot attach or detach devices.
protocol DeviceMachine: AnyObject {
    var name: String { get }
    func isActive() throws -> Bool
    func isPersistent() throws -> Bool
    func xml(_ flags: Domain.XMLFlags) throws -> String
    func attachDevice(xml: String, _ flags: Domain.DeviceModifyFlags) throws
    func detachDevice(xml: String, _ flags: Domain.DeviceModifyFlags) throws
    func detachDevice(alias: String, _ flags: Domain.DeviceModifyFlags) throws
}

extension Domain: DeviceMachine {}

/// Which definitions of a machine a device change applies to, with the
/// XML of each, read once per call.
///
/// virsh's rule: live and/or config as asked; neither is "current" (the
/// running machine when it runs, its definition otherwise).
struct DeviceScope {
    /// The change applies to the running machine.
    let live: Bool
    /// The change applies to the persistent definition.
    let config: Bool
    /// The live XML when `live`, else nil.
    let liveXML: String?
    /// The persistent XML when `config`, else nil.
    let configXML: String?

    init(_ scope: Virthost_V1_DeviceScope, of machine: some DeviceMachine) throws {
        let active = try machine.isActive()
        let live = scope.live || (!scope.config && active)
        let config = scope.config || (!scope.live && !active)
        if live, !active {
            throw Refusal(
                .failedPrecondition,
                "domain '\(machine.name)' is not running; a live change needs a running machine (use the persistent scope)")
        }
        if config, !(try machine.isPersistent()) {
            throw Refusal(.failedPrecondition, "domain '\(machine.name)' is transient: it has no persistent definition to change")
        }
        self.live = live
        self.config = config
        liveXML = live ? try machine.xml([]) : nil
        configXML = config ? try machine.xml(.inactive) : nil
    }

    /// libvirt's flags for exactly these definitions.
    var flags: Domain.DeviceModifyFlags {
        var flags: Domain.DeviceModifyFlags = []
        if live { flags.insert(.live) }
        if config { flags.insert(.config) }
        return flags
    }

    /// Each definition the change applies to, with its XML and its name for messages.
    var definitions: [(xml: String, label: String)] {
        [liveXML.map { ($0, "live") }, configXML.map { ($0, "persistent") }].compactMap { $0 }
    }
}
