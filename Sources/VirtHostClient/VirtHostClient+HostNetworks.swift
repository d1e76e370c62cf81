import VirtHostAPI

// Host plumbing: bridges, TAPs, VLANs and bonds (brctl, ip tuntap, ip link).

extension VirtHostClient {
    /// The host's links, optionally of one kind ("bridge", "tap", "veth"...).
    public func listLinks(kind: String = "") async throws -> [Virthost_V1_Link] {
        try await call { try await hostNetworks.listLinks(.with { $0.kind = kind }).links }
    }

    /// One page of links as the agent answers it (sorted by name, next_page_token).
    public func listLinks(_ request: Virthost_V1_ListLinksRequest) async throws -> Virthost_V1_ListLinksResponse {
        try await call { try await hostNetworks.listLinks(request) }
    }

    /// Creates a bridge, up (brctl addbr).
    public func createBridge(_ name: String, mtu: UInt32 = 0, stp: Bool = false) async throws -> Virthost_V1_Link {
        try await call {
            try await hostNetworks.createBridge(.with {
                $0.name = name
                $0.mtu = mtu
                $0.stp = stp
            })
        }
    }

    /// Deletes a bridge (brctl delbr); refused while an active libvirt network
    /// or a running machine's NIC uses it.
    public func deleteBridge(_ name: String) async throws {
        _ = try await call { try await hostNetworks.deleteBridge(.with { $0.name = name }) }
    }

    /// Creates a persistent TAP device, up (ip tuntap add NAME mode tap).
    public func createTap(
        _ name: String, ownerUID: UInt32? = nil, ownerGID: UInt32? = nil, multiQueue: Bool = false,
        bridge: String = "", mtu: UInt32 = 0
    ) async throws -> Virthost_V1_Link {
        try await call {
            try await hostNetworks.createTap(.with {
                $0.name = name
                if let ownerUID { $0.ownerUid = ownerUID }
                if let ownerGID { $0.ownerGid = ownerGID }
                $0.multiQueue = multiQueue
                $0.bridge = bridge
                $0.mtu = mtu
            })
        }
    }

    /// Deletes a persistent TAP device (ip tuntap del); refused while a process holds it.
    public func deleteTap(_ name: String) async throws {
        _ = try await call { try await hostNetworks.deleteTap(.with { $0.name = name }) }
    }

    /// Connects an interface to a bridge (brctl addif) and returns the interface.
    public func addToBridge(_ bridge: String, interface: String) async throws -> Virthost_V1_Link {
        try await call {
            try await hostNetworks.addToBridge(.with {
                $0.bridge = bridge
                $0.interface = interface
            })
        }
    }

    /// Disconnects an interface from its bridge (brctl delif) and returns the interface.
    public func removeFromBridge(_ bridge: String, interface: String) async throws -> Virthost_V1_Link {
        try await call {
            try await hostNetworks.removeFromBridge(.with {
                $0.bridge = bridge
                $0.interface = interface
            })
        }
    }

    /// Creates an 802.1Q VLAN interface on `parent` (needs the kernel's 8021q).
    public func createVlan(_ name: String, parent: String, id: UInt32, up: Bool = false) async throws -> Virthost_V1_Link {
        try await call {
            try await hostNetworks.createVlan(.with {
                $0.name = name
                $0.parent = parent
                $0.vlanID = id
                $0.up = up
            })
        }
    }

    /// Creates a bond over `ports` (needs the kernel's bonding support).
    public func createBond(_ name: String, mode: String = "", ports: [String] = [], up: Bool = false) async throws -> Virthost_V1_Link {
        try await call {
            try await hostNetworks.createBond(.with {
                $0.name = name
                $0.mode = mode
                $0.ports = ports
                $0.up = up
            })
        }
    }

    /// Deletes a VLAN, bond, veth, dummy, macvlan or macvtap link (ip link del).
    public func deleteLink(_ name: String) async throws {
        _ = try await call { try await hostNetworks.deleteLink(.with { $0.name = name }) }
    }
}
