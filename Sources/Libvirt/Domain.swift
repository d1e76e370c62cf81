import CLibvirt

/// A libvirt machine (`virDomainPtr`), freed when the last reference goes away.
public final class Domain: Sendable {
    /// libvirt objects may be used from any thread; freed once, in deinit.
    nonisolated(unsafe) let handle: OpaquePointer

    /// The machine's name, read once: every libvirt getter formats the UUID
    /// for its debug line, which lists of 1,000 machines felt. A handle's
    /// name changes only by `virDomainRename`, which this binding does not
    /// offer.
    public let name: String
    /// What frees the handle instead of this object, when it is borrowed
    /// from a list libvirt frees as a whole (see ``Connection/allDomainStats(_:flags:)``).
    private let owner: (any Sendable & AnyObject)?

    init(handle: OpaquePointer) {
        self.handle = handle
        name = virDomainGetName(handle).map { String(cString: $0) } ?? ""
        owner = nil
    }

    /// A handle that stays valid while `owner` lives, which frees it.
    init(borrowing handle: OpaquePointer, from owner: any Sendable & AnyObject) {
        self.handle = handle
        name = virDomainGetName(handle).map { String(cString: $0) } ?? ""
        self.owner = owner
    }

    deinit { if owner == nil { virDomainFree(handle) } }

    public func uuid() throws -> String {
        try uuidString("virDomainGetUUID") { virDomainGetUUID(handle, $0) }
    }

    /// The running machine's id, or nil when it is not running.
    ///
    /// libvirt fills the id in when the handle is looked up and does not
    /// refresh it: look the domain up again after a start or stop.
    public var id: UInt32? {
        let id = virDomainGetID(handle)
        return id == UInt32.max ? nil : id
    }

    /// A machine's run state (`virDomainState`).
    public enum State: Int32, Sendable {
        case noState = 0, running, blocked, paused, shutdown, shutoff, crashed, pmSuspended
    }

    /// State, memory and CPU figures (`virDomainGetInfo`).
    public struct Info: Sendable, Equatable {
        public var state: State
        public var maxMemoryKiB: UInt64
        public var memoryKiB: UInt64
        public var vcpus: UInt32
        public var cpuTimeNs: UInt64
    }

    public func info() throws -> Info {
        var info = virDomainInfo()
        _ = try check(virDomainGetInfo(handle, &info), "virDomainGetInfo")
        return Info(
            state: State(rawValue: Int32(info.state)) ?? .noState,
            maxMemoryKiB: UInt64(info.maxMem), memoryKiB: UInt64(info.memory),
            vcpus: UInt32(info.nrVirtCpu), cpuTimeNs: info.cpuTime)
    }

    /// The state alone, with libvirt's reason code.
    public func state() throws -> (state: State, reason: Int32) {
        var state: Int32 = 0
        var reason: Int32 = 0
        _ = try check(virDomainGetState(handle, &state, &reason, 0), "virDomainGetState")
        return (State(rawValue: state) ?? .noState, reason)
    }

    public func isActive() throws -> Bool { try check(virDomainIsActive(handle), "virDomainIsActive") == 1 }
    public func isPersistent() throws -> Bool { try check(virDomainIsPersistent(handle), "virDomainIsPersistent") == 1 }

    public func autostart() throws -> Bool {
        var value: Int32 = 0
        _ = try check(virDomainGetAutostart(handle, &value), "virDomainGetAutostart")
        return value != 0
    }

    public func setAutostart(_ on: Bool) throws {
        _ = try check(virDomainSetAutostart(handle, on ? 1 : 0), "virDomainSetAutostart")
    }

    public func osType() throws -> String {
        try takeString(virDomainGetOSType(handle), "virDomainGetOSType")
    }

    /// Flags for ``xml(_:)`` (`virDomainXMLFlags`).
    public struct XMLFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let secure = XMLFlags(rawValue: VIR_DOMAIN_XML_SECURE.rawValue)
        public static let inactive = XMLFlags(rawValue: VIR_DOMAIN_XML_INACTIVE.rawValue)
    }

    public func xml(_ flags: XMLFlags = []) throws -> String {
        try takeString(virDomainGetXMLDesc(handle, flags.rawValue), "virDomainGetXMLDesc")
    }

    // MARK: Lifecycle

    public func start() throws { _ = try check(virDomainCreate(handle), "virDomainCreate") }

    /// How ``shutdown(_:)`` asks the guest (`virDomainShutdownFlagValues`).
    public struct ShutdownFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let acpiPowerButton = ShutdownFlags(rawValue: VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN.rawValue)
        public static let guestAgent = ShutdownFlags(rawValue: VIR_DOMAIN_SHUTDOWN_GUEST_AGENT.rawValue)
    }

    public func shutdown(_ flags: ShutdownFlags = []) throws {
        _ = try check(virDomainShutdownFlags(handle, flags.rawValue), "virDomainShutdownFlags")
    }

    public func destroy() throws { _ = try check(virDomainDestroy(handle), "virDomainDestroy") }

    /// How ``reboot(_:)`` asks the guest (`virDomainRebootFlagValues`).
    public struct RebootFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let acpiPowerButton = RebootFlags(rawValue: VIR_DOMAIN_REBOOT_ACPI_POWER_BTN.rawValue)
        public static let guestAgent = RebootFlags(rawValue: VIR_DOMAIN_REBOOT_GUEST_AGENT.rawValue)
    }

    /// Asks the guest to reboot (virsh reboot); returns before it has.
    public func reboot(_ flags: RebootFlags = []) throws {
        _ = try check(virDomainReboot(handle, flags.rawValue), "virDomainReboot")
    }

    /// Resets the machine at once, like a reset button (virsh reset).
    public func reset() throws { _ = try check(virDomainReset(handle, 0), "virDomainReset") }

    /// Pauses the virtual CPUs (virsh suspend).
    public func suspend() throws { _ = try check(virDomainSuspend(handle), "virDomainSuspend") }

    /// Lets a paused machine run again (virsh resume).
    public func resume() throws { _ = try check(virDomainResume(handle), "virDomainResume") }

    /// What ``undefine(_:)`` removes besides the definition (`virDomainUndefineFlagsValues`).
    public struct UndefineFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let managedSave = UndefineFlags(rawValue: VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue)
        public static let snapshotsMetadata = UndefineFlags(rawValue: VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue)
        public static let nvram = UndefineFlags(rawValue: VIR_DOMAIN_UNDEFINE_NVRAM.rawValue)
        public static let checkpointsMetadata = UndefineFlags(rawValue: VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA.rawValue)
    }

    public func undefine(_ flags: UndefineFlags = []) throws {
        _ = try check(virDomainUndefineFlags(handle, flags.rawValue), "virDomainUndefineFlags")
    }

    // MARK: Devices

    /// Where a device change applies (`virDomainDeviceModifyFlags`); empty is
    /// libvirt's "current".
    public struct DeviceModifyFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let live = DeviceModifyFlags(rawValue: VIR_DOMAIN_AFFECT_LIVE.rawValue)
        public static let config = DeviceModifyFlags(rawValue: VIR_DOMAIN_AFFECT_CONFIG.rawValue)
    }

    public func attachDevice(xml: String, _ flags: DeviceModifyFlags) throws {
        _ = try check(virDomainAttachDeviceFlags(handle, xml, flags.rawValue), "virDomainAttachDeviceFlags")
    }

    public func detachDevice(xml: String, _ flags: DeviceModifyFlags) throws {
        _ = try check(virDomainDetachDeviceFlags(handle, xml, flags.rawValue), "virDomainDetachDeviceFlags")
    }

    /// Asks for a device's removal by its alias (`virDomainDetachDeviceAlias`).
    ///
    /// Unlike ``detachDevice(xml:_:)`` it returns as soon as the request is
    /// sent; a live device is gone once the guest releases it (libvirt then
    /// emits a device-removed event and drops it from the live XML).
    public func detachDevice(alias: String, _ flags: DeviceModifyFlags) throws {
        _ = try check(virDomainDetachDeviceAlias(handle, alias, flags.rawValue), "virDomainDetachDeviceAlias")
    }

    // MARK: Guest agent

    /// How long ``agentCommand(_:timeout:)`` waits (`virDomainQemuAgentCommandTimeoutValues`).
    public enum AgentTimeout: Sendable, Equatable {
        case seconds(Int32)
        case block, `default`, noWait

        var rawValue: Int32 {
            switch self {
            case .seconds(let s): return s
            case .block: return VIR_DOMAIN_QEMU_AGENT_COMMAND_BLOCK.rawValue
            case .default: return VIR_DOMAIN_QEMU_AGENT_COMMAND_DEFAULT.rawValue
            case .noWait: return VIR_DOMAIN_QEMU_AGENT_COMMAND_NOWAIT.rawValue
            }
        }
    }

    /// Sends a JSON command to the qemu-guest-agent and returns its JSON reply.
    public func agentCommand(_ command: String, timeout: AgentTimeout = .default) throws -> String {
        try takeString(virDomainQemuAgentCommand(handle, command, timeout.rawValue, 0), "virDomainQemuAgentCommand")
    }
}
