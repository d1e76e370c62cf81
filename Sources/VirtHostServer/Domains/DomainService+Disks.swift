import Foundation
import GRPCCore
import VirtHostAPI

// Disks on machines: attach and detach (virsh attach-disk / detach-disk).
// The work is DomainDevices'; these decode, call it, and wait for the guest.
extension DomainService {
    func attachDisk(request: Virthost_V1_AttachDiskRequest, context: ServerContext) async throws -> Virthost_V1_Disk {
        let ref = try ObjectRef(request.domain)
        let localHost = Self.isLocal(hypervisor.uri)
        var attach = try DiskXML.attach(request) { path in localHost && Self.isBlockDevice(path) }
        let confinement = StorageConfinement(uri: hypervisor.uri)
        attach.noBackingStore = confinement.access.isConfined
        switch attach.source {
        case .file(let path), .block(let path):
            try confinement.checkDiskPath(path)
            try confinement.checkDiskImage(path: path, format: attach.format, what: "disk '\(path)'")
        case .volume: break
        }
        let checked = attach
        if localHost, case .file(let path) = checked.source, !FileManager.default.fileExists(atPath: path) {
            throw Refusal(.notFound, "no file or device '\(path)' on this host")
        }
        return try await hypervisor.run(machine: ref) { connection in
            if case .volume(let poolName, let volumeName) = checked.source {
                let (pool, volume) = try connection.volume(pool: poolName, name: volumeName)
                try confinement.checkVolume(volume, in: pool)
                let format = checked.format.isEmpty
                    ? VolumeXML.diskFormat(forVolumeFormat: VolumeXML.format(try volume.xml())) : checked.format
                try confinement.checkDiskImage(path: try volume.path(), format: format, what: "volume '\(volumeName)' of pool '\(poolName)'")
            }
            return try DomainDevices(connection: connection, machine: connection.domain(ref)).attachDisk(checked, scope: request.scope)
        }
    }

    /// A live detach waits for the guest to release the disk until shortly
    /// before the call's deadline (``DeviceRemoval``), then answers pending.
    func detachDisk(request: Virthost_V1_DetachDiskRequest, context: ServerContext) async throws -> Virthost_V1_DetachResult {
        let ref = try ObjectRef(request.domain)
        try DiskXML.target(request.target)
        let target = request.target
        let live = try await hypervisor.run(machine: ref) { connection in
            try DomainDevices(connection: connection, machine: connection.domain(ref)).detachDisk(target: target, scope: request.scope)
        }
        return try await DeviceRemoval.wait(live: live) {
            try await hypervisor.run(machine: ref) { connection in
                guard let domain = try? connection.domain(ref) else { return false }
                return try DomainDevices(connection: connection, machine: domain).liveDisk(target: target)
            }
        }
    }

    /// Whether the libvirt URI names this host (no remote transport or host),
    /// so host paths can be checked here.
    static func isLocal(_ uri: String) -> Bool {
        guard let components = URLComponents(string: uri) else { return false }
        return (components.host ?? "").isEmpty && !(components.scheme ?? "").contains("+")
    }

    static func isBlockDevice(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFBLK
    }
}
