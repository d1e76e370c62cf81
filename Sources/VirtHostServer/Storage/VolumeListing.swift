import Glibc
import LibXML
import Libvirt
import VirtHostAPI

/// ListVolumes with as few libvirt round trips per volume as libvirt allows,
/// and none for a file volume that has not changed since the last list.
///
/// libvirt has no bulk call for volume details: `virStorageVolGetInfo` is
/// one round trip per volume (type, capacity and allocation), and libvirtd
/// refreshes the volume (open, fstat, header read) under the pool's lock on
/// each, 85-220 us a volume here. The rest comes without one: name and key
/// with the handles of `virStoragePoolListAllVolumes`; the path is the key
/// in the pool types whose key is the path (dir, fs, netfs), else
/// `virStorageVolGetPath`; the format needs the volume's XML, read only when
/// the request asks (`with_format`).
///
/// In those file pools the agent `lstat`s each volume's path (a syscall,
/// about 1 us) and reuses what libvirt answered the last time for a regular
/// file whose inode, size, blocks, mtime and ctime are all unchanged
/// (``ListCaches/volumes``): anything that changes a file's capacity,
/// allocation or format moves one of those, and the stat is taken before
/// libvirt is asked, so a change during the read is seen by the next list.
/// Symlinks, devices and directories are always asked. The misses are read
/// by several libvirt threads at once, each on its own connection.
enum VolumeListing {
    /// Pool types whose volume key is the volume's path.
    static let keyIsPath: Set<String> = ["dir", "fs", "netfs"]
    /// Volumes per libvirt thread when a page is read in parallel.
    static let chunk = 200

    /// What one round of reading found: the pool's type, the page's names
    /// and their keys.
    struct Plan: Sendable {
        let pool: String
        let type: String
        let names: [String]
        let keys: [String: String]
        let next: String

        var pathIsKey: Bool { VolumeListing.keyIsPath.contains(type) }
    }

    /// Pool lookup, the pool's XML (its type) and the volume list: 3 round trips.
    static func plan(_ connection: Connection, pool name: String, page: Page) throws -> Plan {
        let pool = try connection.pool(.name(name))
        let type = try XMLReader(try pool.xml()).string("/pool/@type") ?? ""
        var keys: [String: String] = [:]
        for volume in try pool.listVolumes() { keys[volume.name] = try volume.key() }
        let (names, next) = page.select(Array(keys.keys), name: { $0 })
        return Plan(pool: pool.name, type: type, names: names, keys: keys, next: next)
    }

    /// The volumes of `names` (any that vanished are skipped): the pool
    /// lookup and volume list again on this thread's connection, then one
    /// info per volume (plus path and XML where needed), remembered in
    /// `cache` for regular files.
    static func read(
        _ connection: Connection, plan: Plan, names: ArraySlice<String>, withFormat: Bool,
        cache: DerivedCache<FileIdentity, VolumeDetails>
    ) throws -> [Virthost_V1_Volume] {
        let pool = try connection.pool(.name(plan.pool))
        let wanted = Set(names)
        let volumes = try pool.listVolumes().filter { wanted.contains($0.name) }
        return try Listing.live(volumes) { volume in
            let key = try volume.key()
            let path = plan.pathIsKey ? key : ((try? volume.path()) ?? "")
            // Before libvirt reads the file: a change after this is seen next time.
            let identity = plan.pathIsKey ? FileIdentity(path) : nil
            let info = try volume.info()
            var details = VolumeDetails(
                type: ["file", "block", "dir", "network", "netdir", "ploop"][Int(info.kind.rawValue)],
                capacity: info.capacity, allocation: info.allocation, format: nil)
            if withFormat {
                details.format = (try? XMLReader(try volume.xml()).string("/volume/target/format/@type")) ?? ""
            }
            if let identity { cache.remember(path, from: identity, details) }
            return details.message(name: volume.name, pool: plan.pool, key: key, path: path)
        }
    }

    /// The page's volumes whose files are unchanged since libvirt last
    /// answered for them, and the names left to ask libvirt about.
    static func remembered(
        _ plan: Plan, withFormat: Bool, cache: DerivedCache<FileIdentity, VolumeDetails>
    ) -> (known: [Virthost_V1_Volume], ask: [String]) {
        guard plan.pathIsKey else { return ([], plan.names) }
        var known: [Virthost_V1_Volume] = []
        var ask: [String] = []
        for name in plan.names {
            guard let key = plan.keys[name], let identity = FileIdentity(key),
                let details = cache.value(key, from: identity), !withFormat || details.format != nil
            else {
                ask.append(name)
                continue
            }
            // The format only when asked, as a read from libvirt would give it.
            var message = details.message(name: name, pool: plan.pool, key: key, path: key)
            if !withFormat { message.format = "" }
            known.append(message)
        }
        return (known, ask)
    }

    /// One page of a pool's volumes, sorted by name.
    static func list(
        _ hypervisor: HypervisorConnection, pool: String, page: Page, withFormat: Bool
    ) async throws -> (volumes: [Virthost_V1_Volume], next: String) {
        let cache = hypervisor.listCaches.volumes
        // The lstat calls run on the libvirt thread too: on a netfs pool
        // whose server hangs they block, and must not hold a thread of
        // Swift's cooperative pool (two on a two-core host).
        let (plan, known, ask) = try await hypervisor.run { connection in
            let plan = try VolumeListing.plan(connection, pool: pool, page: page)
            let (known, ask) = VolumeListing.remembered(plan, withFormat: withFormat, cache: cache)
            return (plan, known, ask)
        }
        var volumes = known
        let chunks = stride(from: 0, to: ask.count, by: chunk).map { ask[$0..<min($0 + chunk, ask.count)] }
        try await withThrowingTaskGroup(of: [Virthost_V1_Volume].self) { group in
            for names in chunks {
                group.addTask {
                    try await hypervisor.run { connection in
                        try read(connection, plan: plan, names: names, withFormat: withFormat, cache: cache)
                    }
                }
            }
            for try await part in group { volumes += part }
        }
        return (volumes.sorted { $0.name < $1.name }, plan.next)
    }
}

/// What libvirt says of a volume that its file alone decides.
struct VolumeDetails: Sendable {
    var type: String
    var capacity: UInt64
    var allocation: UInt64
    /// The format from the volume's XML; nil when it was not read.
    var format: String?

    func message(name: String, pool: String, key: String, path: String) -> Virthost_V1_Volume {
        var message = Virthost_V1_Volume()
        message.name = name
        message.pool = pool
        message.key = key
        message.path = path
        message.type = type
        message.capacity = capacity
        message.allocation = allocation
        message.format = format ?? ""
        return message
    }
}

/// A regular file's `lstat` fields that any change to its content, size or
/// allocation moves (inode, size, blocks, mtime, ctime), for
/// ``ListCaches/volumes``.
struct FileIdentity: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let blocks: Int64
    let modified: Int64
    let changed: Int64

    /// nil unless `path` names a regular file (a symlink is not followed).
    init?(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        blocks = Int64(info.st_blocks)
        modified = Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec)
        changed = Int64(info.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_ctim.tv_nsec)
    }
}
