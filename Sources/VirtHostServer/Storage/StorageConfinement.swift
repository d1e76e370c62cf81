import Foundation
import Libvirt
import VirtHostAPI

/// The storage half of ``Confinement``: what an operator's pools, volumes
/// and disk paths may be. Admins pass every check; pools an admin defined
/// are trusted as they are.
///
/// The volume checks run on the libvirt thread just before libvirt opens
/// the file. A symlink is refused outright (not just one that points out),
/// so that a file swapped for a link between the check and libvirt's open
/// needs write access to the pool's folder, which operator pools (root's
/// folders inside a storage root, with libvirt's default owner and mode) do
/// not give.
struct StorageConfinement {
    let access: CallerAccess
    let host: HostPaths.Host

    /// Pool kinds whose volumes are files in the pool's target folder.
    static let fileBackedPoolTypes: Set<String> = ["dir", "fs", "netfs"]

    init(access: CallerAccess = CallerAccess.current, uri: String) {
        self.access = access
        host = HostPaths.Host(uri: uri)
    }

    private var roots: [String] { access.confinement.storageRoots }
    private var rootsText: String { roots.isEmpty ? "none" : roots.joined(separator: ", ") }

    // MARK: Pools

    /// An operator defines `dir` pools only, with a target inside a storage root.
    func checkDefine(_ request: Virthost_V1_DefinePoolRequest) throws {
        guard access.isConfined else { return }
        switch request.definition {
        case .xml:
            try access.requireAdmin("a pool from raw XML can name any host device, folder or remote host")
        case .spec(let spec):
            guard case .dir = spec.kind else {
                try access.requireAdmin("a \(Self.kindName(spec)) pool names host devices or remote hosts; operators may define dir pools only")
                return
            }
            if spec.hasOwnerUid || spec.hasOwnerGid || spec.hasMode {
                try access.requireAdmin("operators may not set a pool folder's owner, group or mode (it would let them swap files under the agent's checks)")
            }
            try checkInsideRoot(spec.targetPath, what: "pool target '\(spec.targetPath)'")
        case nil:
            return
        }
    }

    /// Building or deleting a pool changes host storage (mkfs, a partition
    /// table, a volume group, a folder): an operator may do it to a `dir`
    /// pool inside a storage root only.
    func checkBuildOrDelete(_ pool: StoragePool, verb: String) throws {
        guard access.isConfined else { return }
        let reader = try XMLReader(try pool.xml())
        let type = reader.string("/pool/@type") ?? ""
        guard type == "dir" else {
            try access.requireAdmin("to \(verb) a \(type) pool changes host devices; operators may \(verb) dir pools only")
            return
        }
        let target = reader.string("/pool/target/path") ?? ""
        try checkInsideRoot(target, what: "pool '\(pool.name)' (target '\(target)')")
    }

    // MARK: Volumes

    /// An existing volume an operator may read, write, resize or delete: in
    /// a file-backed pool, a regular file (no symlink, one link) whose real
    /// path stays inside the pool's folder.
    func checkVolume(_ volume: StorageVolume, in pool: StoragePool) throws {
        guard access.isConfined, let folder = try fileFolder(of: pool) else { return }
        let path = try volume.path()
        let what = "volume '\(volume.name)' of pool '\(pool.name)'"
        switch HostPaths.kind(path) {
        case .symlink(let destination):
            try access.requireAdmin("\(what) is a symbolic link (\(path) -> \(destination)); operators may not use linked volumes")
        case .regular(let links) where links > 1:
            try access.requireAdmin("\(what) has \(links) hard links, so it may be a host file outside the pool; operators may not use it")
        case .blockDevice, .special:
            try access.requireAdmin("\(what) is a device node in a file pool; operators may not use it")
        case .regular, .directory, .missing:
            break
        }
        guard let resolved = HostPaths.resolve(path), HostPaths.isInside(resolved, folder: folder) else {
            try access.requireAdmin("\(what) resolves to \(HostPaths.resolve(path) ?? path), outside the pool's folder \(folder)")
            return
        }
    }

    /// A new volume of this name: nothing (not even a dangling symlink,
    /// which libvirt's create would follow) may be there yet.
    func checkNewVolume(named name: String, in pool: StoragePool) throws {
        guard access.isConfined, let folder = try fileFolder(of: pool) else { return }
        let path = (folder.hasSuffix("/") ? folder : folder + "/") + name
        if case .symlink(let destination) = HostPaths.kind(path) {
            try access.requireAdmin("'\(path)' is a symbolic link (to \(destination)); operators may not create a volume over it")
        }
    }

    /// The resolved target folder of a file-backed pool whose files this host
    /// can check; nil for pools of devices (an admin's, trusted) and for
    /// libvirt's test driver. A remote libvirt's files cannot be checked.
    private func fileFolder(of pool: StoragePool) throws -> String? {
        let reader = try XMLReader(try pool.xml())
        guard Self.fileBackedPoolTypes.contains(reader.string("/pool/@type") ?? "") else { return nil }
        switch host {
        case .simulated: return nil
        case .remote:
            try access.requireAdmin("volume files of a remote libvirt host cannot be checked by the agent")
            return nil
        case .local:
            let target = reader.string("/pool/target/path") ?? ""
            return HostPaths.resolve(target) ?? target
        }
    }

    // MARK: Disk images

    /// A disk an operator hands a guest must not make QEMU open other host
    /// files: raw or qcow2 only, and a qcow2 image without a backing file or
    /// an external data file (checked where this host can read it; the disk
    /// XML also carries an empty `<backingStore/>`, see ``DiskXML``).
    func checkDiskImage(path: String?, format: String, what: String) throws {
        guard access.isConfined else { return }
        let format = format.isEmpty ? "raw" : format
        guard DiskImageHeader.confinedFormats.contains(format) else {
            try access.requireAdmin("\(what) has format \(format), which can name other host files; operators may use raw and qcow2 disks")
            return
        }
        if format == "qcow2", host == .local, let path, let reference = DiskImageHeader.qcow2Reference(at: path) {
            try access.requireAdmin("\(what): \(reference), which would hand that host file to the guest")
        }
    }

    // MARK: Host paths

    /// A host path for a disk (attach or typed machine): for an operator, a
    /// regular file (one link, no symlink) inside a storage root.
    func checkDiskPath(_ path: String) throws {
        guard access.isConfined else { return }
        try checkFile(path, what: "disk path '\(path)'", mayBeMissing: false)
    }

    /// A host file the machine writes (a serial console log): for an
    /// operator, inside a storage root, missing or a regular file.
    func checkOutputFile(_ path: String) throws {
        guard access.isConfined else { return }
        try checkFile(path, what: "file '\(path)'", mayBeMissing: true)
    }

    private func checkFile(_ path: String, what: String, mayBeMissing: Bool) throws {
        if host == .remote { try access.requireAdmin("host paths of a remote libvirt host cannot be checked by the agent") }
        if host == .local {
            switch HostPaths.kind(path) {
            case .symlink(let destination):
                try access.requireAdmin("\(what) is a symbolic link (to \(destination)); operators may use regular files only")
            case .blockDevice:
                try access.requireAdmin("\(what) is a block device; operators may use regular files inside a storage root only")
            case .directory, .special:
                try access.requireAdmin("\(what) is not a regular file")
            case .regular(let links) where links > 1:
                try access.requireAdmin("\(what) has \(links) hard links, so it may be another host file; operators may not use it")
            case .missing where !mayBeMissing:
                throw Refusal(.notFound, "no file '\(path)' on this host")
            case .regular, .missing:
                break
            }
        }
        try checkInsideRoot(path, what: what)
    }

    /// The path, resolved, must be inside one of the storage roots.
    private func checkInsideRoot(_ path: String, what: String) throws {
        let resolved = HostPaths.resolve(path)
        let root = resolved.flatMap { HostPaths.root(holding: $0, in: roots) }
        let shown = resolved.map { $0 == path ? "" : " (resolves to \($0))" } ?? " (not an absolute path without '..' in its missing part)"
        try access.require(
            root != nil, "\(what)\(shown) is outside the storage roots (\(rootsText))",
            allowedBy: "[access] storage_roots in virthostd.toml")
    }

    static func kindName(_ spec: Virthost_V1_PoolSpec) -> String {
        switch spec.kind {
        case .dir: "dir"
        case .fs: "fs"
        case .netfs: "netfs"
        case .disk: "disk"
        case .logical: "logical"
        case .iscsi: "iscsi"
        case .scsi: "scsi"
        case .rbd: "rbd"
        case .gluster: "gluster"
        case nil: "untyped"
        }
    }
}
