import VirtHostAPI

// Typed calls of the host area, naming objects as virsh does: by name.

extension VirtHostClient {
    public func version() async throws -> Virthost_V1_GetVersionResponse {
        try await call { try await hosts.getVersion(.init()) }
    }

    public func nodeInfo() async throws -> Virthost_V1_GetNodeInfoResponse {
        try await call { try await hosts.getNodeInfo(.init()) }
    }

    public func capabilities() async throws -> Virthost_V1_GetCapabilitiesResponse {
        try await call { try await hosts.getCapabilities(.init()) }
    }

    public func health() async throws -> Virthost_V1_GetHealthResponse {
        try await call { try await hosts.getHealth(.init()) }
    }
}
