import CLibvirt
import Foundation

// Block jobs (copy with pivot), backups, checkpoints and the file-system
// freeze they may need: the libvirt calls behind moving and backing up a
// running machine's disks.
extension Domain {
    /// How ``blockCopy(disk:destinationXML:_:)`` copies (`virDomainBlockCopyFlags`).
    public struct BlockCopyFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Copy the top image only (keep the backing chain).
        public static let shallow = BlockCopyFlags(rawValue: VIR_DOMAIN_BLOCK_COPY_SHALLOW.rawValue)
        /// The destination exists already (made through a storage pool).
        public static let reuseExternal = BlockCopyFlags(rawValue: VIR_DOMAIN_BLOCK_COPY_REUSE_EXT.rawValue)
        /// Allow the copy on a persistent machine; the job does not survive
        /// the machine stopping (libvirt 9 refuses a persistent machine without it).
        public static let transientJob = BlockCopyFlags(rawValue: VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB.rawValue)
    }

    /// Starts mirroring `disk` (its target, e.g. "vda") into the disk
    /// described by `destinationXML` (`virDomainBlockCopy`); returns at once.
    /// - Parameter bandwidth: a limit in bytes per second, 0 for none.
    public func blockCopy(disk: String, destinationXML: String, bandwidth: UInt64 = 0, _ flags: BlockCopyFlags) throws {
        var params: virTypedParameterPtr?
        var count: Int32 = 0
        var capacity: Int32 = 0
        defer { virTypedParamsFree(params, count) }
        if bandwidth > 0 {
            _ = try check(
                virTypedParamsAddULLong(&params, &count, &capacity, VIR_DOMAIN_BLOCK_COPY_BANDWIDTH, bandwidth), "virTypedParamsAddULLong")
        }
        _ = try check(virDomainBlockCopy(handle, disk, destinationXML, params, count, flags.rawValue), "virDomainBlockCopy")
    }

    /// A block job's progress (`virDomainBlockJobInfo`).
    public struct BlockJobInfo: Sendable, Equatable {
        /// `virDomainBlockJobType`: 2 copy, 3 active commit, ...
        public var type: Int32
        public var current: UInt64
        public var end: UInt64
        /// Whether the copy has caught up and mirrors (ready to pivot).
        public var ready: Bool { end > 0 && current == end }
    }

    /// The block job on `disk`, nil when there is none.
    public func blockJobInfo(disk: String) throws -> BlockJobInfo? {
        var info = virDomainBlockJobInfo()
        let found = try check(virDomainGetBlockJobInfo(handle, disk, &info, 0), "virDomainGetBlockJobInfo")
        guard found == 1 else { return nil }
        return BlockJobInfo(type: Int32(info.type), current: UInt64(info.cur), end: UInt64(info.end))
    }

    /// Ends the block job on `disk` and waits for it: a copy switches the
    /// machine to its destination when `pivot` is true, otherwise the
    /// machine stays on its disk (`virDomainBlockJobAbort`).
    public func blockJobAbort(disk: String, pivot: Bool) throws {
        let flags = pivot ? VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT.rawValue : 0
        _ = try check(virDomainBlockJobAbort(handle, disk, flags), "virDomainBlockJobAbort")
    }

    /// How ``backupBegin(xml:checkpointXML:_:)`` starts (`virDomainBackupBeginFlags`).
    public struct BackupFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// The push targets exist already (made through a storage pool).
        public static let reuseExternal = BackupFlags(rawValue: VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL.rawValue)
    }

    /// Starts a backup job and, with `checkpointXML`, a checkpoint at the
    /// same instant (`virDomainBackupBegin`); returns once the point in time
    /// is fixed, while the data is still being copied.
    public func backupBegin(xml: String, checkpointXML: String?, _ flags: BackupFlags) throws {
        _ = try check(virDomainBackupBegin(handle, xml, checkpointXML, flags.rawValue), "virDomainBackupBegin")
    }

    /// The machine's current or last completed job (`virDomainGetJobStats`).
    public struct JobStats: Sendable, Equatable {
        /// `virDomainJobType`: 0 none, 1 bounded, 2 unbounded, 3 completed, 4 failed, 5 cancelled.
        public var type: Int32
        /// `virDomainJobOperation`: 8 backup, ...
        public var operation: Int32
        public var processed: UInt64
        public var total: UInt64
        public var errorMessage: String
        public var isRunning: Bool { type == 1 || type == 2 }
    }

    /// The running job, or with `completed` the last one that ended.
    public func jobStats(completed: Bool = false) throws -> JobStats {
        var type: Int32 = 0
        var params: virTypedParameterPtr?
        var count: Int32 = 0
        let flags = completed ? VIR_DOMAIN_JOB_STATS_COMPLETED.rawValue : 0
        _ = try check(virDomainGetJobStats(handle, &type, &params, &count, flags), "virDomainGetJobStats")
        defer { virTypedParamsFree(params, count) }
        var values: [String: TypedValue] = [:]
        for index in 0..<Int(count) {
            guard let param = params?[index] else { continue }
            let key = withUnsafeBytes(of: param.field) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if let value = typedValue(param) { values[key] = value }
        }
        let processed = values[VIR_DOMAIN_JOB_DISK_PROCESSED]?.unsigned ?? values[VIR_DOMAIN_JOB_DATA_PROCESSED]?.unsigned ?? 0
        let total = values[VIR_DOMAIN_JOB_DISK_TOTAL]?.unsigned ?? values[VIR_DOMAIN_JOB_DATA_TOTAL]?.unsigned ?? 0
        return JobStats(
            type: type, operation: Int32(truncatingIfNeeded: values[VIR_DOMAIN_JOB_OPERATION]?.unsigned ?? 0),
            processed: processed, total: total, errorMessage: values[VIR_DOMAIN_JOB_ERRMSG]?.string ?? "")
    }

    /// Stops the machine's running job, e.g. a backup (`virDomainAbortJob`).
    public func abortJob() throws { _ = try check(virDomainAbortJob(handle), "virDomainAbortJob") }

    /// The XML (`<domaincheckpoint>`) of each of the machine's checkpoints
    /// (`virDomainListAllCheckpoints`), unsorted.
    public func checkpointXMLs() throws -> [String] {
        var list: UnsafeMutablePointer<virDomainCheckpointPtr?>?
        let count = try check(virDomainListAllCheckpoints(handle, &list, 0), "virDomainListAllCheckpoints")
        defer { free(list) }
        var result: [String] = []
        for index in 0..<Int(count) {
            guard let checkpoint = list?[index] else { continue }
            defer { virDomainCheckpointFree(checkpoint) }
            result.append(try takeString(virDomainCheckpointGetXMLDesc(checkpoint, 0), "virDomainCheckpointGetXMLDesc"))
        }
        return result
    }

    /// Removes a checkpoint's metadata and bitmaps; libvirt merges its
    /// changes into its parent's bitmap (`virDomainCheckpointDelete`).
    /// With `metadataOnly`, only libvirt's record goes (for a checkpoint
    /// whose bitmaps are gone, e.g. after the disk was copied elsewhere).
    public func deleteCheckpoint(name: String, metadataOnly: Bool = false) throws {
        let checkpoint = try check(virDomainCheckpointLookupByName(handle, name, 0), "virDomainCheckpointLookupByName")
        defer { virDomainCheckpointFree(checkpoint) }
        let flags = metadataOnly ? VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY.rawValue : 0
        _ = try check(virDomainCheckpointDelete(checkpoint, flags), "virDomainCheckpointDelete")
    }

    /// Freezes the guest's file systems through its agent (`virDomainFSFreeze`);
    /// returns how many were frozen.
    @discardableResult
    public func freezeFilesystems() throws -> Int32 {
        try check(virDomainFSFreeze(handle, nil, 0, 0), "virDomainFSFreeze")
    }

    /// Thaws what ``freezeFilesystems()`` froze (`virDomainFSThaw`).
    @discardableResult
    public func thawFilesystems() throws -> Int32 {
        try check(virDomainFSThaw(handle, nil, 0, 0), "virDomainFSThaw")
    }
}

extension Connection {
    /// The volume whose path is `path` in any active pool (`virStorageVolLookupByPath`).
    public func lookupVolume(path: String) throws -> StorageVolume {
        StorageVolume(handle: try check(virStorageVolLookupByPath(handle, path), "virStorageVolLookupByPath"))
    }
}

extension StorageVolume {
    /// The pool the volume is in (`virStoragePoolLookupByVolume`).
    public func pool() throws -> StoragePool {
        StoragePool(handle: try check(virStoragePoolLookupByVolume(handle), "virStoragePoolLookupByVolume"))
    }
}

extension Domain {
    /// A disk's sizes as the hypervisor sees them (`virDomainBlockInfo`).
    public struct BlockInfo: Sendable, Equatable {
        /// The size the guest sees.
        public var capacity: UInt64
        /// Bytes the image holds on the host.
        public var allocation: UInt64
        public var physical: UInt64
    }

    /// Sizes of the disk with this target (`virDomainGetBlockInfo`).
    public func blockInfo(disk: String) throws -> BlockInfo {
        var info = virDomainBlockInfo()
        _ = try check(virDomainGetBlockInfo(handle, disk, &info, 0), "virDomainGetBlockInfo")
        return BlockInfo(capacity: UInt64(info.capacity), allocation: UInt64(info.allocation), physical: UInt64(info.physical))
    }
}
