import GRPCCore
import VirtHostAPI

// NICs on machines (virsh attach-interface / detach-interface).

extension VirtHostClient {
    /// Where a NIC change applies, as virsh's `--live` / `--config`; neither is `--current`.
    public struct DeviceScope: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// The running machine.
        public static let live = DeviceScope(rawValue: 1)
        /// The persistent definition.
        public static let config = DeviceScope(rawValue: 2)
        /// virsh's `--current`: the running machine when it runs, its definition otherwise.
        public static let current: DeviceScope = []

        var message: Virthost_V1_DeviceScope {
            .with {
                $0.live = contains(.live)
                $0.config = contains(.config)
            }
        }
    }

    /// Attaches a NIC (virsh attach-interface) and returns it as the machine now has it.
    /// - Parameters:
    ///   - type: `.network` (source: a network), `.bridge` (a host bridge),
    ///     `.direct` (macvtap on a host device) or `.hostdev` (a hostdev network).
    ///   - model: "virtio" (default), "e1000e" or "rtl8139".
    ///   - mac: empty generates one that is unique on the machine.
    ///   - directMode: for `.direct`: bridge (default), vepa, private, passthrough.
    public func attachInterface(
        domain name: String, type: Virthost_V1_InterfaceSourceType, source: String, model: String = "",
        mac: String = "", directMode: String = "", portgroup: String = "", scope: DeviceScope = .current
    ) async throws -> Virthost_V1_Interface {
        try await call {
            try await domains.attachInterface(.with {
                $0.domain = .named(name)
                $0.type = type
                $0.source = source
                $0.model = model
                $0.mac = mac
                $0.directMode = directMode
                $0.portgroup = portgroup
                $0.scope = scope.message
            })
        }
    }

    /// Detaches the NIC with `mac` (virsh detach-interface). A live detach
    /// waits for the guest to release the NIC until shortly before `timeout`,
    /// then says whether it completed or is still pending.
    public func detachInterface(
        domain name: String, mac: String, scope: DeviceScope = .current, timeout: Duration = .seconds(10)
    ) async throws -> Virthost_V1_DetachResult {
        var options = CallOptions.defaults
        options.timeout = timeout
        let request = Virthost_V1_DetachInterfaceRequest.with {
            $0.domain = .named(name)
            $0.mac = mac
            $0.scope = scope.message
        }
        return try await call { try await domains.detachInterface(request, options: options) }
    }
}
