import GRPCCore
import Libvirt
import VirtHostAPI

// Volumes: list, inspect, create (thin or preallocated), delete, resize,
// wipe, clone. A failed create or clone leaves no volume behind.
extension StorageService {
    func listVolumes(request: Virthost_V1_ListVolumesRequest, context: ServerContext) async throws -> Virthost_V1_ListVolumesResponse {
        try Validate.lookupName(request.pool, field: "pool name")
        return try await hypervisor.run { connection in
            let pool = try connection.pool(.name(request.pool))
            var response = Virthost_V1_ListVolumesResponse()
            response.volumes = try Listing.live(pool.listVolumes()) { try Virthost_V1_Volume($0, pool: pool.name) }
            return response
        }
    }

    func getVolume(request: Virthost_V1_VolumeRef, context: ServerContext) async throws -> Virthost_V1_Volume {
        try Self.validate(request)
        return try await hypervisor.run { connection in
            let (pool, volume) = try connection.volume(pool: request.pool, name: request.name)
            return try Virthost_V1_Volume(volume, pool: pool.name)
        }
    }

    func getVolumeXML(request: Virthost_V1_VolumeRef, context: ServerContext) async throws -> Virthost_V1_GetVolumeXMLResponse {
        try Self.validate(request)
        return try await hypervisor.run { connection in
            var response = Virthost_V1_GetVolumeXMLResponse()
            response.xml = try connection.volume(pool: request.pool, name: request.name).1.xml()
            return response
        }
    }

    static func validate(_ ref: Virthost_V1_VolumeRef, field: String = "volume") throws {
        try Validate.lookupName(ref.pool, field: "pool name")
        try Validate.volumeName(ref.name, field: "\(field) name")
    }

    func createVolume(request: Virthost_V1_CreateVolumeRequest, context: ServerContext) async throws -> Virthost_V1_Volume {
        try Validate.lookupName(request.pool, field: "pool name")
        try Validate.volumeName(request.name)
        try Validate.size(request.capacity, field: "capacity")
        if !request.format.isEmpty { try VolumeXML.validateFormat(request.format) }
        _ = try VolumeXML.plan(request, poolType: "dir")  // the allocation/format pairing
        return try await hypervisor.run { connection in
            let pool = try connection.pool(.name(request.pool))
            let poolXML = try pool.xml()
            let poolType = (try XMLReader(poolXML)).string("/pool/@type") ?? ""
            let plan = try VolumeXML.plan(request, poolType: poolType)
            try Self.requireAbsent(request.name, in: pool)
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
    }

    func deleteVolume(request: Virthost_V1_VolumeRef, context: ServerContext) async throws -> Virthost_V1_Empty {
        try Self.validate(request)
        return try await hypervisor.run { connection in
            try connection.volume(pool: request.pool, name: request.name).1.delete()
            return Virthost_V1_Empty()
        }
    }

    func resizeVolume(request: Virthost_V1_ResizeVolumeRequest, context: ServerContext) async throws -> Virthost_V1_Volume {
        try Self.validate(request.volume)
        try Validate.size(request.capacity, field: "capacity")
        return try await hypervisor.run { connection in
            let (pool, volume) = try connection.volume(pool: request.volume.pool, name: request.volume.name)
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
    }

    /// Zeroes a volume. A raw volume is zeroed in place. An image with
    /// metadata (qcow2 and the like) is zeroed and then created anew, empty,
    /// thin, with the same name, capacity and format: libvirt 9.0 zeroes the
    /// image's header too and leaves a raw file of the old file size.
    func wipeVolume(request: Virthost_V1_VolumeRef, context: ServerContext) async throws -> Virthost_V1_Volume {
        try Self.validate(request)
        return try await hypervisor.run { connection in
            let (pool, volume) = try connection.volume(pool: request.pool, name: request.name)
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
    }

    func cloneVolume(request: Virthost_V1_CloneVolumeRequest, context: ServerContext) async throws -> Virthost_V1_Volume {
        try Self.validate(request.source, field: "source volume")
        try Validate.volumeName(request.newName, field: "new volume name")
        return try await hypervisor.run { connection in
            let (pool, source) = try connection.volume(pool: request.source.pool, name: request.source.name)
            try Self.requireAbsent(request.newName, in: pool)
            let xml = try VolumeXML.cloneXML(sourceXML: try source.xml(), newName: request.newName)
            do {
                let clone = try pool.createVolume(xml: xml, cloning: source)
                return try Virthost_V1_Volume(clone, pool: pool.name)
            } catch let error as LibvirtError {
                Self.removeLeftover(request.newName, in: pool)
                throw error
            }
        }
    }

    // MARK: Helpers (on a libvirt thread)

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
        throw RPCError(
            code: .resourceExhausted,
            message: "\(what) needs \(bytes) bytes now but pool '\(pool.name)' has \(info.available) available")
    }

    /// Deletes a volume a failed create or clone left behind (libvirt removes
    /// most, not all, of them).
    static func removeLeftover(_ name: String, in pool: StoragePool) {
        try? pool.refresh()
        if let leftover = try? pool.lookupVolume(name: name) { try? leftover.delete() }
    }
}
