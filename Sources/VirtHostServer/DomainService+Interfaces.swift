import GRPCCore
import Libvirt
import VirtHostAPI

// NICs on machines: attach and detach (virsh attach-interface / detach-interface).
extension DomainService {
    func attachInterface(request: Virthost_V1_AttachInterfaceRequest, context: ServerContext) async throws -> Virthost_V1_Interface {
        throw RPCError.notBuilt("DomainService.AttachInterface")
    }

    func detachInterface(request: Virthost_V1_DetachInterfaceRequest, context: ServerContext) async throws -> Virthost_V1_DetachResult {
        throw RPCError.notBuilt("DomainService.DetachInterface")
    }
}
