import Libvirt
import VirtHostAPI

/// Volumes: create (thin or preallocated), resize, wipe, clone; plain
/// operations on one connection, run on a libvirt thread, no gRPC. A failed
/// create or clone leaves no volume behind.
struct VolumeOperations {
    let connection: Connection
    /// The caller's storage rules; nil checks nothing (the agent's own calls).
    let confinement: StorageConfinement?

    init(_ connection: Connection, confinement: StorageConfinement? = nil) {
        self.connection = connection
        self.confinement = confinement
    }

    /// Creates a volume from a request whose fields passed their checks.
    func create(_ request: Virthost_V1_CreateVolumeRequest) throws -> Virthost_V1_Volume {
        let pool = try connection.pool(.name(request.pool))
        let poolXML = try pool.xml()
        let poolType = (try XMLReader(poolXML)).string("/pool/@type") ?? ""
        let plan = try VolumeXML.plan(request, poolType: poolType)
        try Self.requireAbsent(request.name, in: pool)
        try confinement?.checkNewVolume(named: request.name, in: pool)
        if poolType == "disk",
           let expected = VolumeXML.nextPartitionName(poolXML: poolXML, existing: try pool.listVolumes().map(\.name)),
           expected != request.name {
            throw Refusal.invalid(
                "in disk pool '\(pool.name)' libvirt names partitions itself: the next one is '\(expected)', not '\(request.name)'")
        }
        try Self.requireSpace(plan.upFrontBytes, in: pool, what: "volume '\(request.name)'")
        do {
            let volume = try pool.createVolume(xml: plan.xml, plan.preallocateMetadata ? .preallocateMetadata : [])
            return try Virthost_V1_Volume(volume, pool: pool.name)
        } catch let error as LibvirtError {
            Self.removeLeftover(request.name, in: pool)
            throw error
        }
    }

    /// Grows (or, when allowed, shrinks) a volume.
    func resize(_ request: Virthost_V1_ResizeVolumeRequest) throws -> Virthost_V1_Volume {
        let (pool, volume) = try connection.volume(pool: request.volume.pool, name: request.volume.name)
        try confinement?.checkVolume(volume, in: pool)
        let current = try volume.info().capacity
        if request.capacity < current && !request.allowShrink {
            throw Refusal.invalid(
                "capacity \(request.capacity) is smaller than the volume's \(current) bytes; set allow_shrink to shrink it "
                    + "(data past the new end is lost)")
        }
        if request.capacity != current {
            if request.allocate && request.capacity > current {
                try Self.requireSpace(request.capacity - current, in: pool, what: "growing '\(volume.name)'")
            }
            var flags: StorageVolume.ResizeFlags = []
            if request.allowShrink { flags.insert(.shrink) }
            if request.allocate { flags.insert(.allocate) }
            try volume.resize(capacity: request.capacity, flags)
        }
        return try Virthost_V1_Volume(pool.lookupVolume(name: volume.name), pool: pool.name)
    }

    /// Zeroes a volume. A raw volume is zeroed in place. An image with
    /// metadata (qcow2 and the like) is zeroed and then created anew, empty,
    /// thin, with the same name, capacity and format: libvirt 9.0 zeroes the
    /// image's header too and leaves a raw file of the old file size.
    func wipe(_ request: Virthost_V1_VolumeRef) throws -> Virthost_V1_Volume {
        let (pool, volume) = try connection.volume(pool: request.pool, name: request.name)
        try confinement?.checkVolume(volume, in: pool)
        let format = VolumeXML.format(try volume.xml())
        let capacity = try volume.info().capacity
        try volume.wipe()
        if !["", "raw", "none"].contains(format) {
            try volume.delete()
            var create = Virthost_V1_CreateVolumeRequest()
            create.name = request.name
            create.capacity = capacity
            create.format = format
            let plan = try VolumeXML.plan(create, poolType: "dir")
            _ = try pool.createVolume(xml: plan.xml)
        }
        return try Virthost_V1_Volume(pool.lookupVolume(name: request.name), pool: pool.name)
    }

    /// Copies a volume into a new one of the same pool.
    func clone(_ request: Virthost_V1_CloneVolumeRequest) throws -> Virthost_V1_Volume {
        let (pool, source) = try connection.volume(pool: request.source.pool, name: request.source.name)
        try confinement?.checkVolume(source, in: pool)
        try Self.requireAbsent(request.newName, in: pool)
        try confinement?.checkNewVolume(named: request.newName, in: pool)
        let xml = try VolumeXML.cloneXML(sourceXML: try source.xml(), newName: request.newName)
        do {
            let clone = try pool.createVolume(xml: xml, cloning: source)
            return try Virthost_V1_Volume(clone, pool: pool.name)
        } catch let error as LibvirtError {
            Self.removeLeftover(request.newName, in: pool)
            throw error
        }
    }

    // MARK: Checks shared with uploads

    /// ALREADY_EXISTS when the pool has a volume of that name.
    static func requireAbsent(_ name: String, in pool: StoragePool) throws {
        if (try? pool.lookupVolume(name: name)) != nil {
            throw Refusal(.alreadyExists, "pool '\(pool.name)' already has a volume '\(name)'")
        }
    }

    /// RESOURCE_EXHAUSTED when a running pool has fewer than `bytes` available.
    static func requireSpace(_ bytes: UInt64, in pool: StoragePool, what: String) throws {
        guard bytes > 0 else { return }
        let info = try pool.info()
        guard info.state == .running, bytes > info.available else { return }
        throw Refusal(
            .resourceExhausted,
            "\(what) needs \(bytes) bytes now but pool '\(pool.name)' has \(info.available) available")
    }

    /// Deletes a volume a failed create or clone left behind (libvirt removes
    /// most, not all, of them).
    static func removeLeftover(_ name: String, in pool: StoragePool) {
        try? pool.refresh()
        if let leftover = try? pool.lookupVolume(name: name) { try? leftover.delete() }
    }
}
