import VirtHostAPI

// Typed calls of the domains area, naming objects as virsh does: by name.

extension VirtHostClient {
    public func listDomains(activeOnly: Bool = false, inactiveOnly: Bool = false) async throws -> [Virthost_V1_Domain] {
        var request = Virthost_V1_ListDomainsRequest()
        request.activeOnly = activeOnly
        request.inactiveOnly = inactiveOnly
        return try await call { try await domains.listDomains(request).domains }
    }

    public func domain(_ name: String) async throws -> Virthost_V1_Domain {
        try await call { try await domains.getDomain(.with { $0.domain = .named(name) }) }
    }

    public func domainXML(_ name: String, inactive: Bool = false, secure: Bool = false) async throws -> String {
        let request = Virthost_V1_GetDomainXMLRequest.with {
            $0.domain = .named(name)
            $0.inactive = inactive
            $0.secure = secure
        }
        return try await call { try await domains.getDomainXML(request).xml }
    }

    /// Defines a machine from raw XML (admin role).
    public func defineDomain(xml: String) async throws -> Virthost_V1_Domain {
        try await call { try await domains.defineDomain(.with { $0.xml = xml }) }
    }

    /// Defines a new machine from a typed spec (operator role); the agent
    /// writes the XML. With `start`, starts it too; a failed start removes
    /// the new definition again.
    public func defineDomain(spec: Virthost_V1_DomainSpec, start: Bool = false) async throws -> Virthost_V1_Domain {
        let request = Virthost_V1_DefineDomainRequest.with {
            $0.spec = spec
            $0.start = start
        }
        return try await call { try await domains.defineDomain(request) }
    }

    /// Asks the guest to reboot; `mode` is "", "acpi" or "agent".
    public func rebootDomain(_ name: String, mode: String = "") async throws -> Virthost_V1_Domain {
        let request = Virthost_V1_RebootDomainRequest.with {
            $0.domain = .named(name)
            $0.mode = mode
        }
        return try await call { try await domains.rebootDomain(request) }
    }

    /// Resets the machine at once (virsh reset).
    public func resetDomain(_ name: String) async throws -> Virthost_V1_Domain {
        try await call { try await domains.resetDomain(.named(name)) }
    }

    /// Pauses the machine (virsh suspend).
    public func suspendDomain(_ name: String) async throws -> Virthost_V1_Domain {
        try await call { try await domains.suspendDomain(.named(name)) }
    }

    /// Lets a paused machine run again (virsh resume).
    public func resumeDomain(_ name: String) async throws -> Virthost_V1_Domain {
        try await call { try await domains.resumeDomain(.named(name)) }
    }

    /// Starts the machine with the host, or not (virsh autostart).
    public func setDomainAutostart(_ name: String, _ autostart: Bool) async throws -> Virthost_V1_Domain {
        let request = Virthost_V1_SetDomainAutostartRequest.with {
            $0.domain = .named(name)
            $0.autostart = autostart
        }
        return try await call { try await domains.setDomainAutostart(request) }
    }

    public func startDomain(_ name: String) async throws -> Virthost_V1_Domain {
        try await call { try await domains.startDomain(.named(name)) }
    }

    /// Asks the guest to shut down; `mode` is "", "acpi" or "agent".
    public func shutdownDomain(_ name: String, mode: String = "") async throws -> Virthost_V1_Domain {
        try await call {
            try await domains.shutdownDomain(.with {
                $0.domain = .named(name)
                $0.mode = mode
            })
        }
    }

    public func destroyDomain(_ name: String) async throws -> Virthost_V1_Domain {
        try await call { try await domains.destroyDomain(.named(name)) }
    }

    public func undefineDomain(_ name: String, snapshotsMetadata: Bool = false, nvram: Bool = false) async throws {
        _ = try await call {
            try await domains.undefineDomain(.with {
                $0.domain = .named(name)
                $0.snapshotsMetadata = snapshotsMetadata
                $0.nvram = nvram
            })
        }
    }

    public func listInterfaces(domain name: String, inactive: Bool = false) async throws -> [Virthost_V1_Interface] {
        try await call {
            try await domains.listInterfaces(.with {
                $0.domain = .named(name)
                $0.inactive = inactive
            }).interfaces
        }
    }

    public func listDisks(domain name: String, inactive: Bool = false) async throws -> [Virthost_V1_Disk] {
        try await call {
            try await domains.listDisks(.with {
                $0.domain = .named(name)
                $0.inactive = inactive
            }).disks
        }
    }
}


extension Virthost_V1_DomainRef {
    /// A reference by name.
    public static func named(_ name: String) -> Self { .with { $0.name = name } }
}
