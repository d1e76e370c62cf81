import VirtHostAPI

// Typed calls of the storage area, naming objects as virsh does: by name.
// Sizes are bytes. Upload and download helpers are in VirtHostClient+Transfer.swift.

extension VirtHostClient {
    // MARK: Pools

    /// All pools, sorted by name (virsh pool-list --all).
    public func listPools(activeOnly: Bool = false, inactiveOnly: Bool = false) async throws -> [Virthost_V1_Pool] {
        var request = Virthost_V1_ListPoolsRequest()
        request.activeOnly = activeOnly
        request.inactiveOnly = inactiveOnly
        return try await call { try await storage.listPools(request).pools }
    }

    /// One page of pools as the agent answers it (next_page_token, event_sequence).
    public func listPools(_ request: Virthost_V1_ListPoolsRequest) async throws -> Virthost_V1_ListPoolsResponse {
        try await call { try await storage.listPools(request) }
    }

    /// One pool with its sizes and its definition as a typed spec (virsh pool-info).
    public func pool(_ name: String) async throws -> Virthost_V1_Pool {
        try await call { try await storage.getPool(.named(name)) }
    }

    /// A pool's XML (virsh pool-dumpxml [--inactive]).
    public func poolXML(_ name: String, inactive: Bool = false) async throws -> String {
        try await call {
            try await storage.getPoolXML(.with {
                $0.pool = .named(name)
                $0.inactive = inactive
            }).xml
        }
    }

    /// Defines a pool from a typed spec, then optionally builds, starts and
    /// marks it autostart. A failed later step removes the definition again.
    public func definePool(
        _ spec: Virthost_V1_PoolSpec, build: Bool = false, overwrite: Bool = false, start: Bool = false,
        autostart: Bool = false
    ) async throws -> Virthost_V1_Pool {
        try await call {
            try await storage.definePool(.with {
                $0.spec = spec
                $0.build = build
                $0.overwrite = overwrite
                $0.start = start
                $0.autostart = autostart
            })
        }
    }

    /// Defines a pool from a full `<pool>` document (virsh pool-define).
    public func definePool(
        xml: String, build: Bool = false, overwrite: Bool = false, start: Bool = false, autostart: Bool = false
    ) async throws -> Virthost_V1_Pool {
        try await call {
            try await storage.definePool(.with {
                $0.xml = xml
                $0.build = build
                $0.overwrite = overwrite
                $0.start = start
                $0.autostart = autostart
            })
        }
    }

    /// Builds the pool's storage (virsh pool-build [--overwrite]).
    public func buildPool(_ name: String, overwrite: Bool = false) async throws -> Virthost_V1_Pool {
        try await call {
            try await storage.buildPool(.with {
                $0.pool = .named(name)
                $0.overwrite = overwrite
            })
        }
    }

    /// virsh pool-start.
    public func startPool(_ name: String) async throws -> Virthost_V1_Pool {
        try await call { try await storage.startPool(.named(name)) }
    }

    /// virsh pool-destroy.
    public func stopPool(_ name: String) async throws -> Virthost_V1_Pool {
        try await call { try await storage.stopPool(.named(name)) }
    }

    /// virsh pool-refresh.
    public func refreshPool(_ name: String) async throws -> Virthost_V1_Pool {
        try await call { try await storage.refreshPool(.named(name)) }
    }

    /// Deletes the pool's storage (virsh pool-delete); the pool must be stopped.
    public func deletePool(_ name: String) async throws {
        _ = try await call { try await storage.deletePool(.named(name)) }
    }

    /// virsh pool-undefine.
    public func undefinePool(_ name: String) async throws {
        _ = try await call { try await storage.undefinePool(.named(name)) }
    }

    /// virsh pool-autostart [--disable].
    public func setPoolAutostart(_ name: String, _ autostart: Bool) async throws -> Virthost_V1_Pool {
        try await call {
            try await storage.setPoolAutostart(.with {
                $0.pool = .named(name)
                $0.autostart = autostart
            })
        }
    }

    /// Which pool types this host's libvirt supports (virsh pool-capabilities).
    public func poolCapabilities() async throws -> Virthost_V1_GetPoolCapabilitiesResponse {
        try await call { try await storage.getPoolCapabilities(.init()) }
    }

    // MARK: Volumes

    /// A pool's volumes, sorted by name (virsh vol-list).
    /// Every volume of a pool, sorted by name. `withFormat` reads each
    /// volume's XML for its format (one more libvirt round trip per volume).
    public func listVolumes(pool: String, withFormat: Bool = true) async throws -> [Virthost_V1_Volume] {
        try await call {
            try await storage.listVolumes(.with {
                $0.pool = pool
                $0.withFormat = withFormat
            }).volumes
        }
    }

    /// One page of volumes as the agent answers it (next_page_token, event_sequence).
    public func listVolumes(_ request: Virthost_V1_ListVolumesRequest) async throws -> Virthost_V1_ListVolumesResponse {
        try await call { try await storage.listVolumes(request) }
    }

    /// One volume with its real allocation (virsh vol-info).
    public func volume(pool: String, name: String) async throws -> Virthost_V1_Volume {
        try await call { try await storage.getVolume(.volume(pool: pool, name: name)) }
    }

    /// A volume's XML (virsh vol-dumpxml).
    public func volumeXML(pool: String, name: String) async throws -> String {
        try await call { try await storage.getVolumeXML(.volume(pool: pool, name: name)).xml }
    }

    /// Creates a volume (virsh vol-create-as).
    /// - Parameters:
    ///   - capacity: bytes the guest sees.
    ///   - format: "raw" (default) or "qcow2"; others the pool accepts pass through.
    ///   - allocation: thin (sparse) by default; `.full` allocates every byte;
    ///     `.metadata` and `.falloc` are qcow2 preallocation modes.
    public func createVolume(
        pool: String, name: String, capacity: UInt64, format: String = "", allocation: Virthost_V1_Allocation = .thin
    ) async throws -> Virthost_V1_Volume {
        try await call {
            try await storage.createVolume(.with {
                $0.pool = pool
                $0.name = name
                $0.capacity = capacity
                $0.format = format
                $0.allocation = allocation
            })
        }
    }

    /// virsh vol-delete.
    public func deleteVolume(pool: String, name: String) async throws {
        _ = try await call { try await storage.deleteVolume(.volume(pool: pool, name: name)) }
    }

    /// Changes a volume's capacity (virsh vol-resize). Shrinking needs
    /// `allowShrink`; `allocate` allocates the added bytes now.
    public func resizeVolume(
        pool: String, name: String, capacity: UInt64, allowShrink: Bool = false, allocate: Bool = false
    ) async throws -> Virthost_V1_Volume {
        try await call {
            try await storage.resizeVolume(.with {
                $0.volume = .volume(pool: pool, name: name)
                $0.capacity = capacity
                $0.allowShrink = allowShrink
                $0.allocate = allocate
            })
        }
    }

    /// Zeroes a volume's data (virsh vol-wipe); a qcow2 stays a valid, empty image.
    public func wipeVolume(pool: String, name: String) async throws -> Virthost_V1_Volume {
        try await call { try await storage.wipeVolume(.volume(pool: pool, name: name)) }
    }

    /// Copies a volume into a new one in the same pool (virsh vol-clone).
    public func cloneVolume(pool: String, source: String, newName: String) async throws -> Virthost_V1_Volume {
        try await call {
            try await storage.cloneVolume(.with {
                $0.source = .volume(pool: pool, name: source)
                $0.newName = newName
            })
        }
    }
}

extension Virthost_V1_PoolRef {
    /// A reference by name.
    public static func named(_ name: String) -> Self { .with { $0.name = name } }
}

extension Virthost_V1_VolumeRef {
    /// A volume in a pool, by names.
    public static func volume(pool: String, name: String) -> Self {
        .with {
            $0.pool = pool
            $0.name = name
        }
    }
}
