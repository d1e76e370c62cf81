import GRPCCore

/// What a caller may do. Each role includes the ones below it.
public enum Role: Int, Comparable, Sendable, CustomStringConvertible {
    /// Nothing at all.
    case none = 0
    /// List, get, watch.
    case reader = 1
    /// Lifecycle, attach and detach, volumes, typed read-only guest-agent calls.
    case `operator` = 2
    /// Everything: raw XML, host plumbing, raw agent commands, exec.
    case admin = 3

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .none: "none"
        case .reader: "reader"
        case .operator: "operator"
        case .admin: "admin"
        }
    }

    /// Parses "none", "reader", "operator" or "admin".
    public init?(name: String) {
        switch name {
        case "none": self = .none
        case "reader": self = .reader
        case "operator": self = .operator
        case "admin": self = .admin
        default: return nil
        }
    }
}

/// Who gets which role: uids and groups from the configuration, decided from
/// the kernel's view of the caller (SO_PEERCRED), never from what it sends.
public struct AccessPolicy: Sendable, Equatable {
    public var adminUIDs: Set<UInt32>
    public var adminGroups: Set<UInt32>
    public var operatorUIDs: Set<UInt32>
    public var operatorGroups: Set<UInt32>
    public var readerUIDs: Set<UInt32>
    public var readerGroups: Set<UInt32>
    /// The role of a caller that matches no rule (it could open the socket).
    public var defaultRole: Role
    /// What operators may reach on the host (storage roots, bridges, devices).
    public var confinement = Confinement()

    public init(
        adminUIDs: Set<UInt32> = [0], adminGroups: Set<UInt32> = [], operatorUIDs: Set<UInt32> = [],
        operatorGroups: Set<UInt32> = [], readerUIDs: Set<UInt32> = [], readerGroups: Set<UInt32> = [],
        defaultRole: Role = .reader
    ) {
        self.adminUIDs = adminUIDs
        self.adminGroups = adminGroups
        self.operatorUIDs = operatorUIDs
        self.operatorGroups = operatorGroups
        self.readerUIDs = readerUIDs
        self.readerGroups = readerGroups
        self.defaultRole = defaultRole
    }

    /// The highest role any rule gives the caller.
    public func role(uid: UInt32, groups: Set<UInt32>) -> Role {
        if adminUIDs.contains(uid) || !adminGroups.isDisjoint(with: groups) { return .admin }
        if operatorUIDs.contains(uid) || !operatorGroups.isDisjoint(with: groups) { return .operator }
        if readerUIDs.contains(uid) || !readerGroups.isDisjoint(with: groups) { return max(.reader, defaultRole) }
        return defaultRole
    }
}

/// The role each RPC needs, and whether it changes something (and so is audited).
public enum MethodRoles {
    public struct Requirement: Sendable, Equatable {
        public var role: Role
        public var changes: Bool
    }

    static let readers: [String: Set<String>] = [
        "virthost.v1.HostService": ["GetVersion", "GetNodeInfo", "GetCapabilities", "GetHealth"],
        "virthost.v1.DomainService": ["ListDomains", "GetDomain", "GetDomainXML", "ListInterfaces", "ListDisks", "GetStats"],
        "virthost.v1.NetworkService": ["ListNetworks", "GetNetwork", "GetNetworkXML", "ListDhcpLeases"],
        "virthost.v1.HostNetworkService": ["ListLinks", "ListAddresses", "ListRoutes", "ListPendingBridges"],
        "virthost.v1.NodeDeviceService": ["ListNodeDevices", "GetNodeDevice", "ListAssignableDevices", "ListHostdevs"],
        "virthost.v1.StorageService": [
            "ListPools", "GetPool", "GetPoolXML", "GetPoolCapabilities", "ListVolumes", "GetVolume", "GetVolumeXML",
        ],
        "virthost.v1.SnapshotService": ["ListSnapshots", "GetSnapshotXML"],
        "virthost.v1.EventService": ["Watch"],
        "virthost.v1.OperationService": ["GetOperation", "ListOperations", "WaitOperation"],
        "virthost.v1.DiskJobService": ["ListBackups"],
    ]

    /// Operator calls that only read (not audited).
    static let operatorReads: [String: Set<String>] = [
        "virthost.v1.GuestAgentService": [
            "Ping", "GetInfo", "GetOSInfo", "GetHostName", "GetInterfaces", "GetFilesystems", "GetUsers", "GetTime",
            "GetFreezeStatus",
        ],
        "virthost.v1.StorageService": ["DownloadVolume"],
    ]

    /// Calls that can do anything to the host or a guest. Calls with an
    /// admin-only variant (raw XML, host paths, host bridges) are operator
    /// calls here and refuse that variant themselves (``CallerAccess``).
    static let admins: [String: Set<String>] = [
        "virthost.v1.GuestAgentService": ["Command", "Exec", "ExecStream", "FreezeFilesystems", "ThawFilesystems"],
        "virthost.v1.HostNetworkService": [
            "CreateBridge", "DeleteBridge", "CreateTap", "DeleteTap", "AddToBridge", "RemoveFromBridge",
            "CreateVlan", "CreateBond", "DeleteLink", "SetLink", "AddAddress", "DeleteAddress", "AddRoute", "DeleteRoute",
            "BridgeUplink", "ConfirmBridge", "RestoreUplink",
        ],
        // PCI passthrough hands host hardware to a guest; SR-IOV and NPIV change the host.
        "virthost.v1.NodeDeviceService": ["AttachHostdev", "DetachHostdev", "SetSriovVfs", "CreateVhba", "DestroyNodeDevice"],
    ]

    static let services: Set<String> = [
        "virthost.v1.HostService", "virthost.v1.DomainService", "virthost.v1.NetworkService",
        "virthost.v1.HostNetworkService", "virthost.v1.StorageService", "virthost.v1.GuestAgentService",
        "virthost.v1.SnapshotService", "virthost.v1.EventService", "virthost.v1.OperationService",
        "virthost.v1.DiskJobService",
        "virthost.v1.NodeDeviceService",
    ]

    /// Standard gRPC services: health answers anyone who can open the
    /// socket (probes run as whatever user), reflection describes the API
    /// to readers.
    static let standard: [String: Requirement] = [
        "grpc.health.v1.Health": Requirement(role: .none, changes: false),
        "grpc.reflection.v1.ServerReflection": Requirement(role: .reader, changes: false),
        "grpc.reflection.v1alpha.ServerReflection": Requirement(role: .reader, changes: false),
    ]

    /// What `service/method` needs; unknown methods need admin.
    public static func requirement(service: String, method: String) -> Requirement {
        if let requirement = standard[service] { return requirement }
        if readers[service]?.contains(method) == true { return Requirement(role: .reader, changes: false) }
        if operatorReads[service]?.contains(method) == true { return Requirement(role: .operator, changes: false) }
        if admins[service]?.contains(method) == true || !services.contains(service) {
            return Requirement(role: .admin, changes: true)
        }
        return Requirement(role: .operator, changes: true)
    }
}
