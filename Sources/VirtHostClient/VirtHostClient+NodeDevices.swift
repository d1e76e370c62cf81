import GRPCCore
import VirtHostAPI

// Node devices, PCI passthrough, SR-IOV and NPIV (virsh nodedev-*, attach-device with <hostdev>).

extension VirtHostClient {
    /// Node devices, optionally of one capability ("pci", "net", "scsi_host"...).
    public func listNodeDevices(capability: String = "") async throws -> [Virthost_V1_NodeDevice] {
        try await call { try await nodeDevices.listNodeDevices(.with { $0.capability = capability }).devices }
    }

    /// One page of node devices as the agent answers it (sorted by name, next_page_token).
    public func listNodeDevices(_ request: Virthost_V1_ListNodeDevicesRequest) async throws -> Virthost_V1_ListNodeDevicesResponse {
        try await call { try await nodeDevices.listNodeDevices(request) }
    }

    /// One node device by libvirt name or PCI address.
    public func nodeDevice(_ name: String) async throws -> Virthost_V1_NodeDevice {
        try await call { try await nodeDevices.getNodeDevice(.with { $0.name = name }) }
    }

    /// PCI devices that can be handed to a machine (not bridges).
    public func listAssignableDevices() async throws -> [Virthost_V1_NodeDevice] {
        try await call { try await nodeDevices.listAssignableDevices(.init()).devices }
    }

    /// A machine's PCI host devices.
    public func listHostdevs(domain name: String, inactive: Bool = false) async throws -> [Virthost_V1_Hostdev] {
        try await call {
            try await nodeDevices.listHostdevs(.with {
                $0.domain = .named(name)
                $0.inactive = inactive
            }).hostdevs
        }
    }

    /// Hands the host PCI device at `pciAddress` ("DDDD:BB:SS.F") to a machine.
    public func attachHostdev(domain name: String, pciAddress: String, managed: Bool = false, scope: DeviceScope = .current) async throws
        -> Virthost_V1_Hostdev
    {
        try await call {
            try await nodeDevices.attachHostdev(.with {
                $0.domain = .named(name)
                $0.pciAddress = pciAddress
                $0.managed = managed
                $0.scope = scope.message
            })
        }
    }

    /// Takes a host PCI device away from a machine; a live detach waits for the guest up to `timeout`.
    public func detachHostdev(domain name: String, pciAddress: String, scope: DeviceScope = .current, timeout: Duration = .seconds(10))
        async throws -> Virthost_V1_DetachResult
    {
        var options = CallOptions.defaults
        options.timeout = timeout
        let request = Virthost_V1_HostdevRequest.with {
            $0.domain = .named(name)
            $0.pciAddress = pciAddress
            $0.scope = scope.message
        }
        return try await call { try await nodeDevices.detachHostdev(request, options: options) }
    }

    /// Sets a physical function's SR-IOV VF count (PCI address, node device or interface name).
    public func setSriovVfs(_ device: String, vfs: UInt32) async throws -> Virthost_V1_NodeDevice {
        try await call {
            try await nodeDevices.setSriovVfs(.with {
                $0.device = device
                $0.vfs = vfs
            })
        }
    }

    /// Creates an NPIV vHBA on `parent` ("scsi_hostN").
    public func createVhba(parent: String, wwnn: String, wwpn: String) async throws -> Virthost_V1_NodeDevice {
        try await call {
            try await nodeDevices.createVhba(.with {
                $0.parent = parent
                $0.wwnn = wwnn
                $0.wwpn = wwpn
            })
        }
    }

    /// Destroys a vHBA made with ``createVhba(parent:wwnn:wwpn:)``.
    public func destroyNodeDevice(_ name: String) async throws {
        _ = try await call { try await nodeDevices.destroyNodeDevice(.with { $0.name = name }) }
    }
}
