import GRPCCore
import Libvirt
import VirtHostAPI

// Disks on machines: attach and detach (virsh attach-disk / detach-disk).
extension DomainService {
    func attachDisk(request: Virthost_V1_AttachDiskRequest, context: ServerContext) async throws -> Virthost_V1_Disk {
        throw RPCError.notBuilt("DomainService.AttachDisk")
    }

    func detachDisk(request: Virthost_V1_DetachDiskRequest, context: ServerContext) async throws -> Virthost_V1_DetachResult {
        throw RPCError.notBuilt("DomainService.DetachDisk")
    }
}
