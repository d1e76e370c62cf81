import VirtHostAPI

// Typed calls of the networks area, naming objects as virsh does: by name.

extension VirtHostClient {
    public func listNetworks(activeOnly: Bool = false, inactiveOnly: Bool = false) async throws -> [Virthost_V1_Network] {
        var request = Virthost_V1_ListNetworksRequest()
        request.activeOnly = activeOnly
        request.inactiveOnly = inactiveOnly
        return try await call { try await networks.listNetworks(request).networks }
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
}
