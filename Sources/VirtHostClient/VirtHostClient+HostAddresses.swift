import VirtHostAPI

// Host links, addresses and routes (ip link set, ip addr, ip route), and
// bridges over uplinks with a confirmation window.

extension VirtHostClient {
    /// Changes a link: up or down, MTU, master (ip link set). Returns the link.
    public func setLink(
        _ name: String, up: Bool? = nil, mtu: UInt32 = 0, master: String = "", noMaster: Bool = false
    ) async throws -> Virthost_V1_Link {
        try await call {
            try await hostNetworks.setLink(.with {
                $0.name = name
                if let up { $0.up = up }
                $0.mtu = mtu
                $0.master = master
                $0.noMaster = noMaster
            })
        }
    }

    /// The addresses of one interface, or of all when `interface` is empty (ip addr).
    public func listAddresses(interface: String = "") async throws -> [Virthost_V1_Address] {
        try await call { try await hostNetworks.listAddresses(.with { $0.interface = interface }).addresses }
    }

    /// Adds `address` ("ADDR/PREFIX") to an interface (ip addr add).
    public func addAddress(_ interface: String, _ address: String) async throws -> Virthost_V1_Address {
        try await call {
            try await hostNetworks.addAddress(.with {
                $0.interface = interface
                $0.address = address
            })
        }
    }

    /// Removes `address` ("ADDR/PREFIX") from an interface (ip addr del).
    public func deleteAddress(_ interface: String, _ address: String) async throws {
        _ = try await call {
            try await hostNetworks.deleteAddress(.with {
                $0.interface = interface
                $0.address = address
            })
        }
    }

    /// The host's routes, every table but local; `family` 4 or 6 for one (ip route).
    public func listRoutes(family: UInt32 = 0) async throws -> [Virthost_V1_Route] {
        try await call { try await hostNetworks.listRoutes(.with { $0.family = family }).routes }
    }

    /// Adds a route to the main table (ip route add DEST via GW dev DEV metric N).
    public func addRoute(_ destination: String, via gateway: String = "", interface: String = "", metric: UInt32 = 0) async throws
        -> Virthost_V1_Route
    {
        try await call {
            try await hostNetworks.addRoute(.with {
                $0.destination = destination
                $0.gateway = gateway
                $0.interface = interface
                $0.metric = metric
            })
        }
    }

    /// Deletes the main-table route to `destination` (ip route del); the
    /// other arguments pick one when several match. Returns what was deleted.
    public func deleteRoute(
        _ destination: String, via gateway: String = "", interface: String = "", metric: UInt32? = nil, family: UInt32 = 0
    ) async throws -> [Virthost_V1_Route] {
        try await call {
            try await hostNetworks.deleteRoute(.with {
                $0.destination = destination
                $0.gateway = gateway
                $0.interface = interface
                if let metric { $0.metric = metric }
                $0.family = family
            }).deleted
        }
    }

    /// Puts a new bridge over `uplink`, moving its addresses and routes;
    /// rolled back unless every check answers through the bridge, and, with
    /// `confirmWithin` seconds, unless ``confirmBridge(_:)`` follows in time.
    public func bridgeUplink(
        _ bridge: String, uplink: String, checks: [String] = [], checkTimeoutSeconds: UInt32 = 0, confirmWithin: UInt32 = 0
    ) async throws -> Virthost_V1_BridgeUplinkResponse {
        try await call {
            try await hostNetworks.bridgeUplink(.with {
                $0.bridge = bridge
                $0.uplink = uplink
                $0.checks = checks
                $0.checkTimeoutSeconds = checkTimeoutSeconds
                $0.confirmWithinSeconds = confirmWithin
            })
        }
    }

    /// Keeps a bridge over an uplink that waits for a confirmation.
    public func confirmBridge(_ bridge: String) async throws {
        _ = try await call { try await hostNetworks.confirmBridge(.with { $0.bridge = bridge }) }
    }

    /// Bridges over uplinks waiting for a confirmation.
    public func listPendingBridges() async throws -> [Virthost_V1_PendingBridge] {
        try await call { try await hostNetworks.listPendingBridges(.init()).pending }
    }

    /// Takes a bridge off its uplink: the addresses and routes go back to
    /// the uplink and the bridge is deleted. Returns the uplink.
    public func restoreUplink(_ bridge: String, uplink: String = "") async throws -> Virthost_V1_Link {
        try await call {
            try await hostNetworks.restoreUplink(.with {
                $0.bridge = bridge
                $0.uplink = uplink
            })
        }
    }
}
