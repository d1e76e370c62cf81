import Foundation
import Libvirt
import VirtHostAPI

/// Moving a machine's disk into a new volume of another pool.
///
/// A running machine's disk is block-copied (`virDomainBlockCopy` into a
/// volume made first through the pool) until the copy mirrors, then pivoted;
/// a shut-off machine's disk is copied as a volume (`virStorageVolCreateXMLFrom`).
/// Either way the persistent definition names the new file afterwards. The
/// plan is recorded as the operation's params, so an agent restarted during
/// the copy finds the block job and finishes it (``DiskJobService/recover()``).
struct DiskMove: Codable, Sendable, Equatable {
    var domainUUID: String
    var domainName: String
    var target: String
    /// The disk's file or device before the move.
    var sourcePath: String
    /// The source's pool and volume, when it is one (for `deleteSource`).
    var sourcePool: String
    var sourceVolume: String
    var pool: String
    var volume: String
    /// The new volume's path, once made (a running machine's move makes it
    /// before the copy starts).
    var path: String
    var isBlock: Bool
    var format: String
    var capacity: UInt64
    var deleteSource: Bool
    /// Whether the machine ran when the move started (a block copy).
    var live: Bool
    /// The copy's limit in MiB/s, 0 for none.
    var bandwidthMiB: UInt32 = 0

    var params: String { String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self) }

    static func decode(_ params: String) -> DiskMove? { try? JSONDecoder().decode(DiskMove.self, from: Data(params.utf8)) }

    /// Pool kinds whose volumes are files (qcow2 possible); the others hold
    /// block devices (raw only).
    static let filePoolTypes: Set<String> = ["dir", "fs", "netfs"]

    /// Checks the request against the machine and the pools and, for a
    /// running machine, makes the destination volume. Runs on a libvirt thread.
    static func plan(_ request: Virthost_V1_MoveDiskRequest, on connection: Connection, confinement: StorageConfinement) throws -> DiskMove {
        let domain = try connection.domain(try ObjectRef(request.domain))
        let live = try domain.isActive()
        let disks = try DiskJobXML.disks(try domain.xml())
        let disk = try DiskJobs.disk(request.target, of: domain.name, in: disks)
        if live, let job = try domain.blockJobInfo(disk: disk.target) {
            throw Refusal(.failedPrecondition, "disk \(disk.target) of '\(domain.name)' already has a block job (type \(job.type)); wait for it or cancel its operation")
        }
        let source = try DiskJobs.source(of: disk, on: connection, confinement: confinement)
        let capacity: UInt64
        if live {
            capacity = try domain.blockInfo(disk: disk.target).capacity
        } else {
            guard let volume = source.volume else {
                throw Refusal(
                    .failedPrecondition,
                    "disk \(disk.target) of the shut-off machine '\(domain.name)' is the file \(source.path), which is in no storage pool; "
                        + "a shut-off machine's disk moves by a volume copy: define a pool over its folder, or start the machine")
            }
            capacity = try volume.info().capacity
        }

        let pool = try connection.pool(.name(request.pool))
        guard try pool.isActive() else { throw Refusal(.failedPrecondition, "pool '\(pool.name)' is not running (virthost pool start \(pool.name))") }
        let poolType = try XMLReader(try pool.xml()).string("/pool/@type") ?? ""
        let filePool = filePoolTypes.contains(poolType)
        let format = request.format.isEmpty ? (filePool ? "qcow2" : "raw") : request.format
        try Validate.oneOf(format, ["qcow2", "raw"], field: "format")
        if !filePool && format != "raw" {
            throw Refusal.invalid("pool '\(pool.name)' (\(poolType)) holds block devices: the moved disk can only be raw (--format raw)")
        }
        let name = request.volume.isEmpty ? "\(domain.name)-\(disk.target).\(format)" : request.volume
        try Validate.volumeName(name, field: "new volume name")
        if (try? pool.lookupVolume(name: name)) != nil {
            throw Refusal(.alreadyExists, "pool '\(pool.name)' already has a volume '\(name)'; name another with --volume")
        }
        try confinement.checkNewVolume(named: name, in: pool)
        if request.deleteSource && source.volume == nil {
            throw Refusal(.failedPrecondition, "disk \(disk.target) is the file \(source.path), not a pool volume: --delete-source deletes pool volumes only")
        }

        var move = DiskMove(
            domainUUID: try domain.uuid(), domainName: domain.name, target: disk.target, sourcePath: source.path,
            sourcePool: source.poolName, sourceVolume: source.volume?.name ?? "", pool: pool.name, volume: name,
            path: "", isBlock: !filePool, format: format, capacity: capacity, deleteSource: request.deleteSource, live: live,
            bandwidthMiB: request.bandwidthMib)
        if live {
            let created = try pool.createVolume(xml: DiskJobXML.newVolume(name: name, capacity: capacity, format: format))
            do {
                move.path = try created.path()
                guard move.path.hasPrefix("/") else {
                    throw Refusal(.failedPrecondition, "pool '\(pool.name)' (\(poolType)) gives no host path for its volumes; a running machine's disk moves into file or block pools only")
                }
                move.isBlock = try created.info().kind == .block
            } catch {
                try? created.delete()
                throw error
            }
        }
        return move
    }

    /// Where a move stands, read from libvirt.
    enum Status: Sendable {
        case copying(Domain.BlockJobInfo)
        /// The machine reads the new volume: the pivot happened.
        case pivoted
        /// No copy runs and the machine is on its old disk.
        case ended
        case machineStopped
    }

    func status(_ connection: Connection) throws -> Status {
        let domain = try connection.lookupDomain(uuid: domainUUID)
        guard try domain.isActive() else { return .machineStopped }
        if let job = try domain.blockJobInfo(disk: target) { return .copying(job) }
        let disk = try DiskJobXML.disks(try domain.xml()).first { $0.target == target }
        return disk?.path == path ? .pivoted : .ended
    }

    /// Starts the block copy into the new volume.
    func startCopy(_ connection: Connection) throws {
        let domain = try connection.lookupDomain(uuid: domainUUID)
        var flags: Domain.BlockCopyFlags = [.reuseExternal]
        if try domain.isPersistent() { flags.insert(.transientJob) }
        try domain.blockCopy(
            disk: target, destinationXML: DiskJobXML.copyDestination(path: path, isBlock: isBlock, format: format),
            bandwidth: UInt64(bandwidthMiB) << 20, flags)
    }

    /// Switches the machine to the copy; false while the copy is not ready yet.
    func pivot(_ connection: Connection) throws -> Bool {
        let domain = try connection.lookupDomain(uuid: domainUUID)
        do {
            try domain.blockJobAbort(disk: target, pivot: true)
            return true
        } catch let error as LibvirtError where error.code == .blockCopyActive {
            return false
        }
    }

    /// Stops the copy; the machine stays on its disk.
    func abortCopy(_ connection: Connection) {
        guard let domain = try? connection.lookupDomain(uuid: domainUUID) else { return }
        if (try? domain.blockJobInfo(disk: target)) != nil { try? domain.blockJobAbort(disk: target, pivot: false) }
    }

    /// Removes the new volume (after a failed or cancelled copy); says what happened.
    func deleteDestination(_ connection: Connection) -> String {
        guard let storagePool = try? connection.lookupStoragePool(name: pool),
              let created = try? storagePool.lookupVolume(name: volume) else {
            return "the new volume \(pool)/\(volume) was not there"
        }
        do {
            try created.delete()
            return "deleted the new volume \(pool)/\(self.volume)"
        } catch {
            return "could not delete the new volume \(pool)/\(self.volume): \(error)"
        }
    }

    /// Copies a shut-off machine's disk volume into the new volume.
    mutating func copyVolume(_ connection: Connection) throws {
        let (_, source) = try connection.volume(pool: sourcePool, name: sourceVolume)
        let destination = try connection.lookupStoragePool(name: pool)
        let created = try destination.createVolume(
            xml: DiskJobXML.newVolume(name: volume, capacity: capacity, format: format), cloning: source)
        path = try created.path()
        isBlock = try created.info().kind == .block
    }

    /// After the switch: the persistent definition names the new file (libvirt
    /// 9 updates it after a pivot; a shut-off machine's is rewritten here).
    func updateDefinition(_ connection: Connection) throws {
        let domain = try connection.lookupDomain(uuid: domainUUID)
        guard try domain.isPersistent() else { return }
        let inactive = try domain.xml([.inactive, .secure])
        let current = try DiskJobXML.disks(inactive).first { $0.target == target }
        guard let current, current.path != path || current.format != format else { return }
        guard let xml = try DiskJobXML.pointing(inactive, target: target, at: path, isBlock: isBlock, format: format) else { return }
        _ = try connection.defineDomain(xml: xml)
    }

    /// After a switch: the checkpoints with a bitmap on the moved disk lose
    /// it (a copy carries no bitmaps), so libvirt's records of them go and
    /// the machine's next backup is a full one. Says what was dropped.
    func dropCheckpoints(_ connection: Connection) -> String {
        guard let domain = try? connection.lookupDomain(uuid: domainUUID),
              let checkpoints = try? domain.checkpointXMLs().map(DiskJobXML.checkpoint) else { return "" }
        let stale = checkpoints.filter { $0.disks.contains(target) }.map(\.name)
        for name in stale { try? domain.deleteCheckpoint(name: name, metadataOnly: true) }
        return stale.isEmpty ? "" : "dropped checkpoints \(stale.joined(separator: ", ")) (their bitmaps stay with the old disk; the next backup is full)"
    }

    /// Deletes the source volume after a successful move, when asked; says what happened.
    func deleteSourceVolume(_ connection: Connection, confinement: StorageConfinement) -> String {
        guard deleteSource, !sourceVolume.isEmpty else { return "" }
        do {
            let (pool, volume) = try connection.volume(pool: sourcePool, name: sourceVolume)
            try confinement.checkVolume(volume, in: pool)
            try volume.delete()
            return "deleted the source volume \(sourcePool)/\(sourceVolume)"
        } catch {
            return "the move succeeded but the source volume \(sourcePool)/\(sourceVolume) was not deleted: \(error)"
        }
    }

    /// The moved disk as the machine now has it.
    func disk(_ connection: Connection) throws -> Virthost_V1_Disk {
        let domain = try connection.lookupDomain(uuid: domainUUID)
        guard let disk = try DomainXML.disks(try domain.xml()).first(where: { $0.target == target }) else {
            throw Refusal(.notFound, "machine '\(domainName)' no longer has a disk \(target)")
        }
        return disk
    }
}

/// Helpers shared by disk moves and backups.
enum DiskJobs {
    /// The machine's disk with this target, or a clear error.
    static func disk(_ target: String, of domain: String, in disks: [DiskJobXML.MachineDisk]) throws -> DiskJobXML.MachineDisk {
        guard let disk = disks.first(where: { $0.target == target }) else {
            let names = disks.map(\.target).joined(separator: ", ")
            throw Refusal(.notFound, "machine '\(domain)' has no disk \(target) (its disks: \(names.isEmpty ? "none" : names))")
        }
        guard disk.device == "disk" else {
            throw Refusal(.failedPrecondition, "\(target) of '\(domain)' is a \(disk.device), not a disk")
        }
        guard ["file", "block", "volume"].contains(disk.type) else {
            throw Refusal(.failedPrecondition, "\(target) of '\(domain)' is a \(disk.type) disk; only file, block and volume disks can be moved or backed up")
        }
        return disk
    }

    /// A disk's host file and, when it is one, its pool volume; refuses an
    /// operator a disk outside what an admin designated (its bytes would
    /// land in a volume the operator can read).
    static func source(
        of disk: DiskJobXML.MachineDisk, on connection: Connection, confinement: StorageConfinement
    ) throws -> (path: String, volume: StorageVolume?, poolName: String) {
        if disk.type == "volume" {
            let (pool, volume) = try connection.volume(pool: disk.pool, name: disk.volume)
            try confinement.checkVolume(volume, in: pool)
            return (try volume.path(), volume, pool.name)
        }
        if let volume = try? connection.lookupVolume(path: disk.path), let pool = try? volume.pool() {
            try confinement.checkVolume(volume, in: pool)
            return (disk.path, volume, pool.name)
        }
        try confinement.checkDiskPath(disk.path)
        return (disk.path, nil, "")
    }
}
