import Foundation
import Glibc
import Libvirt
import VirtHostAPI

/// Backups of a running machine's disks: push mode into qcow2 volumes of a
/// pool, one checkpoint (of the backup's id) per backup.
///
/// A full backup's volumes stand alone; an incremental backup's volume holds
/// the clusters changed since its parent's checkpoint, over its parent's
/// volume as qcow2 backing file, so that reading it (a restore, a
/// `qemu-img convert`) gives the whole disk as it was.
struct BackupPlan: Sendable {
    var record: BackupLedger.Record
    /// Every disk target of the machine (the backup and checkpoint XML list each).
    var allTargets: [String]
    /// Disks that get a bitmap in the new checkpoint (the qcow2 ones backed up).
    var bitmaps: [String]
    /// The parent's checkpoint, for an incremental backup.
    var since: String?
    var quiesce: Bool

    var backupXML: String {
        DiskJobXML.backup(into: record.disks.map { ($0.target, $0.path) }, allTargets: allTargets, since: since)
    }

    var checkpointXML: String? {
        bitmaps.isEmpty ? nil : DiskJobXML.checkpoint(name: record.id, bitmaps: bitmaps, allTargets: allTargets)
    }

    /// Pool kinds backups can go to: their volumes are qcow2 files.
    static let poolTypes: Set<String> = ["dir", "fs", "netfs"]

    /// Checks the request against the machine, its checkpoints and the
    /// agent's records, and makes the target volumes. On a libvirt thread.
    static func make(
        _ request: Virthost_V1_StartBackupRequest, on connection: Connection, ledger: BackupLedger,
        confinement: StorageConfinement
    ) throws -> BackupPlan {
        let domain = try connection.domain(try ObjectRef(request.domain))
        guard try domain.isActive() else {
            throw Refusal(
                .failedPrecondition,
                "machine '\(domain.name)' is shut off: a backup job needs a running machine; copy a shut-off machine's volumes with virthost vol clone")
        }
        let machineDisks = try DiskJobXML.disks(try domain.xml()).filter { $0.device == "disk" }
        var selected: [DiskJobXML.MachineDisk] = []
        if request.disks.isEmpty {
            selected = machineDisks.filter { ["file", "block", "volume"].contains($0.type) }
        } else {
            for target in request.disks {
                guard !selected.contains(where: { $0.target == target }) else { throw Refusal.invalid("disk \(target) is named twice") }
                selected.append(try DiskJobs.disk(target, of: domain.name, in: machineDisks))
            }
        }
        guard !selected.isEmpty else { throw Refusal(.failedPrecondition, "machine '\(domain.name)' has no disk to back up") }
        var version2: Set<String> = []
        for disk in selected {
            let source = try DiskJobs.source(of: disk, on: connection, confinement: confinement)
            // A qcow2 v2 (compat 0.10) image stores no bitmaps: backed up, but without a checkpoint bitmap.
            if disk.format == "qcow2", DiskImageHeader.qcow2Version(at: source.path) == 2 { version2.insert(disk.target) }
        }
        if let job = try? domain.jobStats(), job.isRunning {
            throw Refusal(.failedPrecondition, "machine '\(domain.name)' already runs a job (a backup or migration); wait for it to end")
        }

        let uuid = try domain.uuid()
        let records = try ledger.list(domainUUID: uuid)
        let checkpoints = try domain.checkpointXMLs().map(DiskJobXML.checkpoint)
        var parent: BackupLedger.Record?
        if request.incremental || !request.since.isEmpty {
            if let old = selected.first(where: { version2.contains($0.target) }) {
                throw Refusal(
                    .failedPrecondition,
                    "disk \(old.target) of '\(domain.name)' is a qcow2 version 2 (compat 0.10) image, which cannot store the dirty bitmap an incremental backup needs; "
                        + "take a full backup, or move the disk (virthost disk move writes qcow2 version 3)")
            }
            if let raw = selected.first(where: { $0.format != "qcow2" }) {
                throw Refusal(
                    .failedPrecondition,
                    "disk \(raw.target) of '\(domain.name)' is \(raw.format): only qcow2 images carry the dirty bitmap an incremental backup needs; "
                        + "take a full backup, or move the disk to qcow2 first (virthost disk move \(domain.name) \(raw.target) --pool POOL --format qcow2)")
            }
            let covers = { (record: BackupLedger.Record) -> Bool in
                selected.allSatisfy { disk in
                    record.disk(disk.target) != nil
                        && checkpoints.first { $0.name == record.id }?.disks.contains(disk.target) == true
                }
            }
            if !request.since.isEmpty {
                guard let named = records.first(where: { $0.id == request.since }) else {
                    throw Refusal(.notFound, "machine '\(domain.name)' has no backup '\(request.since)' (virthost backup list \(domain.name))")
                }
                guard named.state == .complete else { throw Refusal(.failedPrecondition, "backup '\(named.id)' did not complete; it cannot be a base") }
                guard checkpoints.contains(where: { $0.name == named.id }) else {
                    throw Refusal(.failedPrecondition, "the checkpoint of backup '\(named.id)' is gone from libvirt; take a full backup")
                }
                guard covers(named) else {
                    throw Refusal(.failedPrecondition, "backup '\(named.id)' does not cover every disk asked for (it has \(named.disks.map(\.target).joined(separator: ", "))); take a full backup")
                }
                parent = named
            } else {
                guard let newest = records.last(where: { $0.state == .complete && covers($0) }) else {
                    throw Refusal(
                        .failedPrecondition,
                        "machine '\(domain.name)' has no complete backup of \(selected.map(\.target).joined(separator: ", ")) with its checkpoint to be incremental from; take a full backup first")
                }
                parent = newest
            }
        }

        let pool = try connection.pool(.name(request.pool))
        guard try pool.isActive() else { throw Refusal(.failedPrecondition, "pool '\(pool.name)' is not running (virthost pool start \(pool.name))") }
        let poolType = try XMLReader(try pool.xml()).string("/pool/@type") ?? ""
        guard poolTypes.contains(poolType) else {
            throw Refusal(.failedPrecondition, "backups are qcow2 files: pool '\(pool.name)' is a \(poolType) pool; use a dir, fs or netfs pool")
        }
        let id = Self.newID()
        var disks: [BackupLedger.Disk] = []
        var created: [StorageVolume] = []
        do {
            for disk in selected {
                let name = "\(domain.name)-\(disk.target)-\(id).qcow2"
                try Validate.volumeName(name, field: "backup volume name")
                try confinement.checkNewVolume(named: name, in: pool)
                let capacity = try domain.blockInfo(disk: disk.target).capacity
                let volume = try pool.createVolume(xml: DiskJobXML.newVolume(
                    name: name, capacity: capacity, format: "qcow2", backing: parent?.disk(disk.target)?.path))
                created.append(volume)
                disks.append(.init(target: disk.target, volume: name, path: try volume.path(), capacity: capacity))
            }
        } catch {
            for volume in created { try? volume.delete() }
            throw error
        }
        let record = BackupLedger.Record(
            id: id, domain: domain.name, domainUUID: uuid, parent: parent?.id ?? "", incremental: parent != nil,
            state: .running, pool: pool.name, disks: disks, createdAt: Date().timeIntervalSince1970, completedAt: nil,
            message: "", quiesced: request.quiesce, operationID: "", owner: StateDatabase.owner)
        return BackupPlan(
            record: record, allTargets: machineDisks.map(\.target),
            bitmaps: selected.filter { $0.format == "qcow2" && !version2.contains($0.target) }.map(\.target),
            since: parent?.id, quiesce: request.quiesce)
    }

    /// A backup id (and checkpoint name): its UTC time and 4 random hex digits.
    static func newID() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return "bk-\(formatter.string(from: Date()))-\(String(format: "%04x", UInt16.random(in: 0...UInt16.max)))"
    }

    /// Starts the job: freezes the guest for the instant libvirt fixes the
    /// point in time when asked, and thaws it whatever happens.
    func begin(_ connection: Connection) throws {
        let domain = try connection.lookupDomain(uuid: record.domainUUID)
        var frozen = false
        if quiesce {
            do {
                try domain.freezeFilesystems()
                frozen = true
            } catch {
                throw Refusal(.failedPrecondition, "could not freeze the guest's file systems for --quiesce (is qemu-guest-agent running?): \(error)")
            }
        }
        defer { if frozen { _ = try? domain.thawFilesystems() } }
        try domain.backupBegin(xml: backupXML, checkpointXML: checkpointXML, [.reuseExternal])
    }
}

/// Reading, deleting and restoring recorded backups.
enum BackupStore {
    /// The machine's UUID for a reference.
    static func domainUUID(_ ref: Virthost_V1_DomainRef, on connection: Connection) throws -> (Domain, String) {
        let domain = try connection.domain(try ObjectRef(ref))
        return (domain, try domain.uuid())
    }

    /// A backup as the API shows it, with its volumes' current sizes.
    static func message(_ record: BackupLedger.Record, on connection: Connection) -> Virthost_V1_Backup {
        var backup = Virthost_V1_Backup()
        backup.id = record.id
        backup.domain = record.domain
        backup.parent = record.parent
        backup.incremental = record.incremental
        backup.state = record.state
        backup.pool = record.pool
        backup.createdAt = .init(timeIntervalSince1970: record.createdAt)
        if let completed = record.completedAt { backup.completedAt = .init(timeIntervalSince1970: completed) }
        backup.message = record.message
        backup.quiesced = record.quiesced
        backup.operationID = record.operationID
        let pool = try? connection.lookupStoragePool(name: record.pool)
        backup.disks = record.disks.map { disk in
            var item = Virthost_V1_BackupDisk()
            item.target = disk.target
            item.volume = disk.volume
            item.capacity = disk.capacity
            item.allocation = (try? pool?.lookupVolume(name: disk.volume).info().allocation) ?? 0
            return item
        }
        backup.size = backup.disks.reduce(0) { $0 + $1.allocation }
        return backup
    }

    /// Deletes a backup's checkpoint, if libvirt still has it; when its
    /// bitmap is gone (the disk was moved), only libvirt's record of it.
    static func deleteCheckpoint(_ name: String, of domain: Domain) throws {
        guard try domain.checkpointXMLs().map(DiskJobXML.checkpoint).contains(where: { $0.name == name }) else { return }
        do {
            try domain.deleteCheckpoint(name: name)
        } catch is LibvirtError {
            try domain.deleteCheckpoint(name: name, metadataOnly: true)
        }
    }

    /// Deletes a backup's volumes (in its pool); says what could not be deleted.
    static func deleteVolumes(_ record: BackupLedger.Record, on connection: Connection, confinement: StorageConfinement) throws {
        let pool = try connection.lookupStoragePool(name: record.pool)
        try? pool.refresh()
        for disk in record.disks {
            guard let volume = try? pool.lookupVolume(name: disk.volume) else { continue }
            try confinement.checkVolume(volume, in: pool)
            try volume.delete()
        }
    }

    /// Rewrites an incremental backup as a full one (its parent is about to
    /// go): each volume becomes the whole disk, under the same path, so the
    /// backups made on top of it still find it.
    static func makeFull(_ record: BackupLedger.Record, on connection: Connection, confinement: StorageConfinement) throws -> [BackupLedger.Disk] {
        let pool = try connection.lookupStoragePool(name: record.pool)
        var disks: [BackupLedger.Disk] = []
        for disk in record.disks {
            let volume = try pool.lookupVolume(name: disk.volume)
            try confinement.checkVolume(volume, in: pool)
            let path = try volume.path()
            let temporary = "\(disk.volume).full-\(String(format: "%04x", UInt16.random(in: 0...UInt16.max)))"
            let full = try pool.createVolume(
                xml: DiskJobXML.newVolume(name: temporary, capacity: disk.capacity, format: "qcow2"), cloning: volume)
            let fullPath = try full.path()
            // Same folder (a file pool): the rename replaces the old volume at once.
            guard rename(fullPath, path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? full.delete()
                throw Refusal(.internalError, "could not put the merged volume in place of \(path): \(reason)")
            }
            try pool.refresh()
            disks.append(.init(target: disk.target, volume: disk.volume, path: path, capacity: disk.capacity))
        }
        return disks
    }

    /// The chain a restore reads, newest first: the backup, its parent, and
    /// so on down to a full backup, each with the disk's volume path. Every
    /// volume's qcow2 header is checked to name exactly the next one (and the
    /// last none), so a volume changed outside the agent cannot make the
    /// restore read another host file.
    static func chain(
        from record: BackupLedger.Record, disk target: String, records: [BackupLedger.Record], on connection: Connection
    ) throws -> [(record: BackupLedger.Record, volume: StorageVolume, path: String)] {
        var chain: [(BackupLedger.Record, StorageVolume, String)] = []
        var current: BackupLedger.Record? = record
        while let layer = current {
            guard chain.count < 1000, !chain.contains(where: { $0.0.id == layer.id }) else {
                throw Refusal(.internalError, "the recorded chain of backup '\(record.id)' loops")
            }
            guard layer.state == .complete else { throw Refusal(.failedPrecondition, "backup '\(layer.id)' in the chain did not complete") }
            guard let disk = layer.disk(target) else { throw Refusal(.failedPrecondition, "backup '\(layer.id)' in the chain has no disk \(target)") }
            let (_, volume) = try connection.volume(pool: layer.pool, name: disk.volume)
            chain.append((layer, volume, try volume.path()))
            current = layer.parent.isEmpty ? nil : records.first { $0.id == layer.parent }
            if !layer.parent.isEmpty && current == nil {
                throw Refusal(.failedPrecondition, "backup '\(layer.id)' builds on '\(layer.parent)', which the agent has no record of")
            }
        }
        for (index, layer) in chain.enumerated() {
            let expected = index + 1 < chain.count ? chain[index + 1].2 : nil
            guard let links = DiskImageHeader.qcow2Links(at: layer.2) else {
                throw Refusal(.failedPrecondition, "backup volume \(layer.0.pool)/\(layer.1.name) is no longer a qcow2 image; it was changed outside the agent")
            }
            guard links.backing == expected, !links.externalData else {
                throw Refusal(
                    .failedPrecondition,
                    "backup volume \(layer.0.pool)/\(layer.1.name) was changed outside the agent (its qcow2 header names \(links.backing ?? "no backing file")\(links.externalData ? " and an external data file" : ""), expected \(expected ?? "none")); it is not restored")
            }
        }
        return chain
    }
}
