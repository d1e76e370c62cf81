import Synchronization

/// What an admin designated for operators: the folders their storage may
/// live in, and the host bridges and devices their NICs may use.
///
/// The rule: an operator reaches host files only inside the storage roots
/// and admin-defined pools, and host links only through libvirt networks or
/// the bridges and devices listed here; everything else needs admin.
public struct Confinement: Sendable, Equatable {
    /// `[access] storage_roots`: folders operator pools and disk paths must
    /// stay inside (after resolving `..` and symlinks).
    public var storageRoots: [String]
    /// `[access] operator_bridges`: host bridges an operator may put a NIC on.
    public var operatorBridges: Set<String>
    /// `[access] operator_devices`: host devices an operator may put a
    /// macvtap (direct) NIC on.
    public var operatorDevices: Set<String>
    /// `[access] operator_taps`: host TAP devices (made with `tap add`) an
    /// operator may put a NIC on.
    public var operatorTaps: Set<String> = []

    /// The packaged default: libvirt's own image folder, no bridges, no devices.
    public static let defaultStorageRoots = ["/var/lib/libvirt/images"]

    public init(
        storageRoots: [String] = Confinement.defaultStorageRoots, operatorBridges: Set<String> = [],
        operatorDevices: Set<String> = []
    ) {
        self.storageRoots = storageRoots
        self.operatorBridges = operatorBridges
        self.operatorDevices = operatorDevices
    }
}

/// The caller of the call being served, as handlers see it: bound by
/// ``AccessInterceptor`` around every handler (and streaming body).
///
/// Outside a served call (in-process use, unit tests of the operations) the
/// caller is an admin: the agent's own code is trusted.
struct CallerAccess: Sendable {
    var role: Role
    var confinement: Confinement
    /// The caller's uid and pid (SO_PEERCRED); 0 outside a served call.
    var uid: UInt32 = 0
    var pid: Int32 = 0
    /// The call's request id (metadata `virthost-request-id`), if any.
    var requestID: String?
    /// The caller asked for an answer at once (metadata `virthost-async: 1`)
    /// where the call runs as an operation.
    var async = false
    /// The operation the call started, for its response metadata.
    var note = OperationNote()

    @TaskLocal static var current = CallerAccess(role: .admin, confinement: Confinement())

    /// The agent itself, outside any call: recovery at start, the cleanup
    /// of its own work.
    static let agent = CallerAccess(role: .admin, confinement: Confinement())

    /// Whether the confinement rules apply (everyone below admin).
    var isConfined: Bool { role < .admin }

    /// Refuses a confined caller: PERMISSION_DENIED naming the rule and what
    /// would allow it (`allowedBy`, e.g. a configuration key), else "needs
    /// the admin role".
    func require(_ allowed: Bool, _ rule: @autoclosure () -> String, allowedBy: @autoclosure () -> String? = nil) throws {
        guard isConfined, !allowed else { return }
        throw Self.refusal(rule(), allowedBy: allowedBy(), role: role)
    }

    /// Refuses a confined caller outright (an admin-only variant of a call).
    func requireAdmin(_ rule: @autoclosure () -> String) throws {
        try require(false, rule())
    }

    static func refusal(_ rule: String, allowedBy: String?, role: Role) -> Refusal {
        let remedy = allowedBy.map { "; an admin can allow it with \($0), or do it with the admin role" }
            ?? "; it needs the admin role (admin_uids or admin_groups in virthostd.toml)"
        return Refusal(.permissionDenied, "\(rule) (caller has the \(role) role)\(remedy)")
    }
}

/// The id of the operation a call started, noted by the handler for the
/// response metadata `virthost-operation-id`.
final class OperationNote: Sendable {
    private let id = Mutex<String?>(nil)

    var operationID: String? {
        get { id.withLock { $0 } }
        set { id.withLock { $0 = newValue } }
    }
}
