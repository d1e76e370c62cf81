import GRPCCore
import VirtHostAPI

// NICs on machines: attach and detach (virsh attach-interface / detach-interface).
// The work is DomainDevices'; these decode, call it, and wait for the guest.
extension DomainService {
    func attachInterface(request: Virthost_V1_AttachInterfaceRequest, context: ServerContext) async throws -> Virthost_V1_Interface {
        let ref = try ObjectRef(request.domain)
        let nic = try NICAttach(request)
        try NetworkConfinement.checkNIC(type: nic.type, source: nic.source)
        return try await hypervisor.run(machine: ref) { connection in
            try DomainDevices(connection: connection, machine: connection.domain(ref)).attachNIC(nic, scope: request.scope)
        }
    }

    /// A live detach waits for the guest to release the NIC until shortly
    /// before the call's deadline (``DeviceRemoval``), then answers pending.
    func detachInterface(request: Virthost_V1_DetachInterfaceRequest, context: ServerContext) async throws -> Virthost_V1_DetachResult {
        let ref = try ObjectRef(request.domain)
        guard !request.mac.isEmpty else { throw Refusal.invalid("mac is empty: name the NIC to remove by its MAC") }
        try Validate.mac(request.mac)
        let mac = request.mac.lowercased()
        let live = try await hypervisor.run(machine: ref) { connection in
            try DomainDevices(connection: connection, machine: connection.domain(ref)).detachNIC(mac: mac, scope: request.scope)
        }
        return try await DeviceRemoval.wait(live: live) {
            try await hypervisor.run(machine: ref) { connection in
                guard let domain = try? connection.domain(ref) else { return false }
                return try DomainDevices(connection: connection, machine: domain).liveNIC(mac: mac)
            }
        }
    }
}
