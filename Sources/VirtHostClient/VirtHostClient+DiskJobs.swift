import GRPCCore
import VirtHostAPI

// Disk moves and backups (DiskJobService). Each runs as an operation: the
// call waits for it unless the call options ask for an answer at once
// (``VirtHostCallOptions``, `virthost-async: 1`).

extension VirtHostClient {
    /// Moves a machine's disk into a new volume of `pool` (virsh blockcopy
    /// --pivot for a running machine, a volume copy for a shut-off one); the
    /// definition names the new volume afterwards.
    /// - Parameters:
    ///   - volume: the new volume's name; empty for "<machine>-<target>.<format>".
    ///   - format: "qcow2" or "raw"; empty for qcow2 in file pools, raw otherwise.
    ///   - deleteSource: delete the source volume after a successful switch.
    ///   - bandwidthMiB: a limit on a running machine's copy in MiB/s, 0 for none.
    public func moveDisk(
        domain: String, target: String, pool: String, volume: String = "", format: String = "", deleteSource: Bool = false,
        bandwidthMiB: UInt32 = 0
    ) async throws -> Virthost_V1_Disk {
        let request = Virthost_V1_MoveDiskRequest.with {
            $0.domain = .named(domain)
            $0.target = target
            $0.pool = pool
            $0.volume = volume
            $0.format = format
            $0.deleteSource = deleteSource
            $0.bandwidthMib = bandwidthMiB
        }
        return try await call { try await diskJobs.moveDisk(request) }
    }

    /// Backs a running machine's disks up into new qcow2 volumes of `pool`.
    /// - Parameters:
    ///   - disks: guest targets; empty for every disk.
    ///   - incremental: changes since the newest backup's checkpoint.
    ///   - since: changes since this backup (an id); excludes `incremental`.
    ///   - quiesce: freeze the guest's file systems (through its agent) for the instant the point in time is fixed.
    public func startBackup(
        domain: String, pool: String, disks: [String] = [], incremental: Bool = false, since: String = "", quiesce: Bool = false
    ) async throws -> Virthost_V1_Backup {
        let request = Virthost_V1_StartBackupRequest.with {
            $0.domain = .named(domain)
            $0.pool = pool
            $0.disks = disks
            $0.incremental = incremental
            $0.since = since
            $0.quiesce = quiesce
        }
        return try await call { try await diskJobs.startBackup(request) }
    }

    /// A machine's backups and checkpoints, oldest first.
    public func listBackups(domain: String) async throws -> Virthost_V1_ListBackupsResponse {
        try await call { try await diskJobs.listBackups(.with { $0.domain = .named(domain) }) }
    }

    /// Deletes a backup (its volumes and checkpoint); backups built on it become full ones.
    public func deleteBackup(domain: String, id: String) async throws {
        _ = try await call {
            try await diskJobs.deleteBackup(.with {
                $0.domain = .named(domain)
                $0.id = id
            })
        }
    }

    /// Writes a new standalone volume from a backup of one disk (the newest
    /// complete one when `backup` is empty).
    public func restoreBackup(
        domain: String, disk: String, pool: String, volume: String, backup: String = "", format: String = ""
    ) async throws -> Virthost_V1_Volume {
        let request = Virthost_V1_RestoreBackupRequest.with {
            $0.domain = .named(domain)
            $0.disk = disk
            $0.pool = pool
            $0.volume = volume
            $0.backup = backup
            $0.format = format
        }
        return try await call { try await diskJobs.restoreBackup(request) }
    }
}
