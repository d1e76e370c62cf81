import GRPCCore
import VirtHostAPI

// Typed calls of the networks area, naming objects as virsh does: by name.

extension VirtHostClient {
    public func listNetworks(activeOnly: Bool = false, inactiveOnly: Bool = false) async throws -> [Virthost_V1_Network] {
        var request = Virthost_V1_ListNetworksRequest()
        request.activeOnly = activeOnly
        request.inactiveOnly = inactiveOnly
        return try await call { try await networks.listNetworks(request).networks }
    }

    /// One page of networks as the agent answers it (next_page_token, event_sequence).
    public func listNetworks(_ request: Virthost_V1_ListNetworksRequest) async throws -> Virthost_V1_ListNetworksResponse {
        try await call { try await networks.listNetworks(request) }
    }

    public func network(_ name: String) async throws -> Virthost_V1_Network {
        try await call { try await networks.getNetwork(.with { $0.name = name }) }
    }

    public func networkXML(_ name: String, inactive: Bool = false) async throws -> String {
        try await call {
            try await networks.getNetworkXML(.with {
                $0.network.name = name
                $0.inactive = inactive
            }).xml
        }
    }

    /// Defines a network from a typed spec (virsh net-define), optionally
    /// starting it and marking it autostart. When a later step fails, the
    /// network is undefined again: nothing stays behind.
    public func defineNetwork(
        _ spec: Virthost_V1_NetworkSpec, start: Bool = false, autostart: Bool = false
    ) async throws -> Virthost_V1_Network {
        try await call {
            try await networks.defineNetwork(.with {
                $0.spec = spec
                $0.start = start
                $0.autostart = autostart
            })
        }
    }

    /// Defines a network from a full `<network>` document: the escape hatch.
    public func defineNetwork(xml: String, start: Bool = false, autostart: Bool = false) async throws -> Virthost_V1_Network {
        try await call {
            try await networks.defineNetwork(.with {
                $0.xml = xml
                $0.start = start
                $0.autostart = autostart
            })
        }
    }

    /// Starts a defined network (virsh net-start); the host links it names
    /// (bridge, macvtap devices, OVS bridge) must exist.
    public func startNetwork(_ name: String) async throws -> Virthost_V1_Network {
        try await call { try await networks.startNetwork(.with { $0.name = name }) }
    }

    /// Stops a network (virsh net-destroy).
    public func stopNetwork(_ name: String) async throws -> Virthost_V1_Network {
        try await call { try await networks.stopNetwork(.with { $0.name = name }) }
    }

    /// Removes a network's persistent definition (virsh net-undefine).
    public func undefineNetwork(_ name: String) async throws {
        _ = try await call { try await networks.undefineNetwork(.with { $0.name = name }) }
    }

    /// Starts the network with the host, or not (virsh net-autostart [--disable]).
    public func setNetworkAutostart(_ name: String, _ autostart: Bool) async throws -> Virthost_V1_Network {
        try await call {
            try await networks.setNetworkAutostart(.with {
                $0.network.name = name
                $0.autostart = autostart
            })
        }
    }

    /// The network's DHCP leases, or the lease of one MAC (virsh net-dhcp-leases).
    public func dhcpLeases(network name: String, mac: String = "") async throws -> [Virthost_V1_DhcpLease] {
        try await call {
            try await networks.listDhcpLeases(.with {
                $0.network.name = name
                $0.mac = mac
            }).leases
        }
    }

    /// One page of a network's DHCP leases as the agent answers it (sorted
    /// by MAC, then address; next_page_token).
    public func listDhcpLeases(_ request: Virthost_V1_ListDhcpLeasesRequest) async throws -> Virthost_V1_ListDhcpLeasesResponse {
        try await call { try await networks.listDhcpLeases(request) }
    }

    /// Adds a static DHCP host, live and persistent (virsh net-update add ip-dhcp-host).
    /// - Parameter ipBlock: the network's own address of the block; empty picks
    ///   the block that holds `host.ip`.
    public func addDhcpHost(network name: String, _ host: Virthost_V1_DhcpHost, ipBlock: String = "") async throws -> Virthost_V1_Network {
        try await updateDhcpHost(network: name, host, add: true, ipBlock: ipBlock)
    }

    /// Removes a static DHCP host, live and persistent (virsh net-update delete ip-dhcp-host).
    public func removeDhcpHost(network name: String, _ host: Virthost_V1_DhcpHost, ipBlock: String = "") async throws -> Virthost_V1_Network {
        try await updateDhcpHost(network: name, host, add: false, ipBlock: ipBlock)
    }

    private func updateDhcpHost(network name: String, _ host: Virthost_V1_DhcpHost, add: Bool, ipBlock: String) async throws -> Virthost_V1_Network {
        try await call {
            try await networks.updateDhcpHost(.with {
                $0.network.name = name
                $0.add = add
                $0.host = host
                $0.ipAddress = ipBlock
            })
        }
    }
}
