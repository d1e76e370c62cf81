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
/// `virStorageVolGetPath`; the format needs the volume's XML, in the other
/// pools read only when the request asks (`with_format`).
///
/// In those file pools the agent `lstat`s each volume's path (a syscall,
/// about 1 us) and keeps what libvirt said of each regular file
/// (``ListCaches/volumes``): its info the first time, its XML (the same one
/// round trip, which also gives the format) once the same file changed:
/// - while the file's inode, size, blocks, mtime and ctime are unchanged,
///   that answer is reused;
/// - when the same file (device and inode) changed, and libvirt knows it as
///   raw or qcow2 without encryption, the new answer is derived from the
///   stat the way libvirt derives it: allocation is the blocks times 512,
///   capacity the size (raw) or the virtual size in the qcow2 header (read
///   here, 32 bytes). A guest writing to its disk no longer costs a round
///   trip per volume per list;
/// - anything else (another file, another format, encryption, symlinks,
///   devices, directories) is asked of libvirt.
/// libvirt probes a file's format again only when it refreshes the pool;
/// what was read before a refresh is not trusted after it (``PoolEpochs``).
/// The stat and the epoch are taken before libvirt is asked, so a change
/// during the read is seen by the next list. The misses are read by several
/// libvirt threads at once, each on its own connection.
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
        /// The pool's epoch, taken before libvirt was read.
        let epoch: UInt64

        var pathIsKey: Bool { VolumeListing.keyIsPath.contains(type) }
    }

    /// Pool lookup, the pool's XML (its type) and the volume list: 3 round trips.
    static func plan(_ connection: Connection, pool name: String, page: Page, epochs: PoolEpochs) throws -> Plan {
        let pool = try connection.pool(.name(name))
        let epoch = epochs.epoch(pool.name)
        let type = try XMLReader(try pool.xml()).string("/pool/@type") ?? ""
        var keys: [String: String] = [:]
        for volume in try pool.listVolumes() { keys[volume.name] = try volume.key() }
        let (names, next) = page.select(Array(keys.keys), name: { $0 })
        return Plan(pool: pool.name, type: type, names: names, keys: keys, next: next, epoch: epoch)
    }

    /// The volumes of `names` (any that vanished are skipped): the pool
    /// lookup and volume list again on this thread's connection, then one
    /// read per volume (its XML when the format is asked or the file was
    /// seen before, else its info; the path where it is not the key),
    /// remembered in `cache` for regular files.
    static func read(
        _ connection: Connection, plan: Plan, names: ArraySlice<String>, withFormat: Bool,
        cache: DerivedCache<VolumeSource, VolumeDetails>
    ) throws -> [Virthost_V1_Volume] {
        let pool = try connection.pool(.name(plan.pool))
        let wanted = Set(names)
        let volumes = try pool.listVolumes().filter { wanted.contains($0.name) }
        return try Listing.live(volumes) { volume in
            let key = try volume.key()
            let path = plan.pathIsKey ? key : ((try? volume.path()) ?? "")
            // Before libvirt reads the file: a change after this is seen next time.
            let identity = plan.pathIsKey ? FileIdentity(path) : nil
            // A file seen before changed in a way not followed (its format
            // was not known): its XML, to follow it next time. A file never
            // seen: its info, a third cheaper to read for libvirt and here
            // (a first list of 1,000 volumes: 230 ms against 330 ms).
            let seen = identity.map { file in cache.entry(path)?.source.file.isSameFile(as: file) ?? false } ?? false
            let details = try seen || withFormat ? VolumeDetails(volume.xml(), or: volume) : VolumeDetails(volume.info())
            if let identity { cache.remember(path, from: VolumeSource(file: identity, epoch: plan.epoch), details) }
            var message = details.message(name: volume.name, pool: plan.pool, key: key, path: path)
            if !withFormat { message.format = "" }
            return message
        }
    }

    /// The page's volumes that need no round trip (their files unchanged
    /// since libvirt last answered, or changed in a way the answer follows
    /// from), and the names left to ask libvirt about.
    static func remembered(
        _ plan: Plan, withFormat: Bool, cache: DerivedCache<VolumeSource, VolumeDetails>
    ) -> (known: [Virthost_V1_Volume], ask: [String]) {
        guard plan.pathIsKey else { return ([], plan.names) }
        var known: [Virthost_V1_Volume] = []
        var ask: [String] = []
        for name in plan.names {
            guard let key = plan.keys[name], let identity = FileIdentity(key),
                let details = details(key, identity, epoch: plan.epoch, cache: cache), !withFormat || details.format != nil
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

    /// What libvirt would answer for the file at `path` now, if that follows
    /// from what it answered before in the same pool epoch: the same answer
    /// for an unchanged file, a derived one for the same file changed.
    static func details(
        _ path: String, _ identity: FileIdentity, epoch: UInt64, cache: DerivedCache<VolumeSource, VolumeDetails>
    ) -> VolumeDetails? {
        let source = VolumeSource(file: identity, epoch: epoch)
        if let same = cache.value(path, from: source) { return same }
        guard let (before, details) = cache.entry(path), before.epoch == epoch, before.file.isSameFile(as: identity),
            let now = details.following(identity, path: path)
        else { return nil }
        cache.remember(path, from: source, now)
        return now
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
            let plan = try VolumeListing.plan(connection, pool: pool, page: page, epochs: hypervisor.listCaches.poolEpochs)
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

/// What libvirt says of a volume: its type, capacity and allocation, and,
/// when its XML was read, its format and whether it is encrypted.
struct VolumeDetails: Sendable, Equatable {
    var type: String
    var capacity: UInt64
    var allocation: UInt64
    /// The format from the volume's XML; nil when it was not read.
    var format: String?
    /// Whether the XML has an `<encryption>`: libvirt's capacity then
    /// depends on the encryption header, and is not derived here.
    var encrypted = false

    /// From `virStorageVolGetInfo`.
    init(_ info: StorageVolume.Info) {
        type = ["file", "block", "dir", "network", "netdir", "ploop"][Int(info.kind.rawValue)]
        capacity = info.capacity
        allocation = info.allocation
    }

    init(type: String, capacity: UInt64, allocation: UInt64, format: String?, encrypted: Bool = false) {
        self.type = type
        self.capacity = capacity
        self.allocation = allocation
        self.format = format
        self.encrypted = encrypted
    }

    /// From the volume's XML (`virStorageVolGetXMLDesc`, which refreshes the
    /// volume as `virStorageVolGetInfo` does); from `volume`'s info if the
    /// XML lacks a figure.
    init(_ xml: String, or volume: StorageVolume) throws {
        let reader = try XMLReader(xml)
        let format = reader.string("/volume/target/format/@type") ?? ""
        let encrypted = !reader.elements("/volume/target/encryption").isEmpty
        if let type = reader.string("/volume/@type"), let capacity = UInt64(reader.string("/volume/capacity") ?? ""),
            let allocation = UInt64(reader.string("/volume/allocation") ?? "")
        {
            self.init(type: type, capacity: capacity, allocation: allocation, format: format, encrypted: encrypted)
        } else {
            self.init(try volume.info())
            self.format = format
            self.encrypted = encrypted
        }
    }

    /// What libvirt answers for the same file after its content changed to
    /// `file`, until the pool is refreshed: libvirt keeps the format it
    /// probed, takes allocation from the blocks and capacity from the size
    /// (raw) or from the qcow2 header's virtual size. nil where it does more
    /// than that (other formats, encryption, no format known) or the qcow2
    /// header is not one.
    func following(_ file: FileIdentity, path: String) -> VolumeDetails? {
        guard type == "file", !encrypted, file.size >= 0, file.blocks >= 0 else { return nil }
        var now = self
        now.allocation = UInt64(file.blocks) &* 512
        switch format {
        case "raw":
            now.capacity = UInt64(file.size)
        case "qcow2":
            guard let size = QCOW2Header.virtualSize(path, of: file) else { return nil }
            now.capacity = size == 0 ? UInt64(file.size) : size
        default:
            return nil
        }
        return now
    }

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

/// The first bytes of a qcow2 image: magic `QFI\xfb`, version (2 or 3), and
/// the virtual size, a big-endian 64-bit number at offset 24.
enum QCOW2Header {
    /// The virtual size in the header of the file at `path`, if the file
    /// opened is still `file` (nothing replaced it since its stat) and
    /// starts with a qcow2 header of version 2 or 3.
    static func virtualSize(_ path: String, of file: FileIdentity) -> UInt64? {
        // O_NONBLOCK: a FIFO swapped in since the stat must not block the open.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard FileIdentity(descriptor: fd) == file else { return nil }
        var header = [UInt8](repeating: 0, count: 32)
        guard (header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 32, 0) }) == 32 else { return nil }
        return parse(header)
    }

    /// The virtual size from a header's first 32 bytes; nil unless they are a
    /// qcow2 header of version 2 or 3.
    static func parse(_ header: [UInt8]) -> UInt64? {
        guard header.count >= 32, header[0..<4] == [0x51, 0x46, 0x49, 0xfb] else { return nil }
        let version = header[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard version == 2 || version == 3 else { return nil }
        return header[24..<32].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }
}

/// What a volume's remembered details were read from: its file's stat and
/// its pool's epoch (``PoolEpochs``).
struct VolumeSource: Equatable, Sendable {
    let file: FileIdentity
    let epoch: UInt64
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
        guard lstat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    /// nil unless the descriptor is of a regular file.
    init?(descriptor: Int32) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        self.init(info)
    }

    init?(_ info: stat) {
        guard (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        blocks = Int64(info.st_blocks)
        modified = Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec)
        changed = Int64(info.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_ctim.tv_nsec)
    }

    /// Whether both are the same file (device and inode), changed or not.
    func isSameFile(as other: FileIdentity) -> Bool {
        device == other.device && inode == other.inode
    }
}
