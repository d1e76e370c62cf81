import VirtHostAPI

// Typed calls of the storage area, naming objects as virsh does: by name.

extension VirtHostClient {
    public func listPools(activeOnly: Bool = false, inactiveOnly: Bool = false) async throws -> [Virthost_V1_Pool] {
        var request = Virthost_V1_ListPoolsRequest()
        request.activeOnly = activeOnly
        request.inactiveOnly = inactiveOnly
        return try await call { try await storage.listPools(request).pools }
    }

    public func pool(_ name: String) async throws -> Virthost_V1_Pool {
        try await call { try await storage.getPool(.with { $0.name = name }) }
    }

    public func listVolumes(pool: String) async throws -> [Virthost_V1_Volume] {
        try await call { try await storage.listVolumes(.with { $0.pool = pool }).volumes }
    }

    public func volume(pool: String, name: String) async throws -> Virthost_V1_Volume {
        try await call {
            try await storage.getVolume(.with {
                $0.pool = pool
                $0.name = name
            })
        }
    }
}
