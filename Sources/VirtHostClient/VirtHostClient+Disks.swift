import VirtHostAPI

// Disks on machines: attach and detach (virsh attach-disk / detach-disk).

/// Where an attached disk's bytes come from.
public enum DiskSource: Sendable, Equatable {
    /// A file or block device on the host, by absolute path.
    case path(String)
    /// A volume in a storage pool.
    case volume(pool: String, name: String)
}

extension VirtHostClient {
    /// Attaches a disk to a machine (virsh attach-disk).
    /// - Parameters:
    ///   - target: the guest target, vdX for virtio, sdX for scsi and sata.
    ///   - bus: "virtio" (default), "scsi" or "sata".
    ///   - format: the image format; empty takes it from the volume (raw for a path).
    ///   - cache: none, writethrough, writeback, directsync, unsafe; empty for the default.
    ///   - serial: what the guest sees as the disk's serial (at most 20 characters).
    ///   - live, config: virsh's --live and --config; neither is --current.
    /// - Returns: the disk as the machine's XML now shows it.
    public func attachDisk(
        domain: String, source: DiskSource, target: String, bus: String = "", format: String = "",
        readOnly: Bool = false, cache: String = "", serial: String = "", live: Bool = false, config: Bool = false
    ) async throws -> Virthost_V1_Disk {
        let request = Virthost_V1_AttachDiskRequest.with {
            $0.domain = .named(domain)
            switch source {
            case .path(let path): $0.path = path
            case .volume(let pool, let name):
                $0.volume = .with {
                    $0.pool = pool
                    $0.volume = name
                }
            }
            $0.target = target
            $0.bus = bus
            $0.format = format
            $0.readOnly = readOnly
            $0.cache = cache
            $0.serial = serial
            $0.scope = .with {
                $0.live = live
                $0.config = config
            }
        }
        return try await call { try await domains.attachDisk(request) }
    }

    /// Detaches the disk with the guest target (virsh detach-disk). A live
    /// detach reports `pending` when the guest has not released the disk yet.
    public func detachDisk(domain: String, target: String, live: Bool = false, config: Bool = false) async throws
        -> Virthost_V1_DetachResult
    {
        let request = Virthost_V1_DetachDiskRequest.with {
            $0.domain = .named(domain)
            $0.target = target
            $0.scope = .with {
                $0.live = live
                $0.config = config
            }
        }
        return try await call { try await domains.detachDisk(request) }
    }
}
