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
        let confinement = StorageConfinement(uri: hypervisor.uri)
        return try await hypervisor.run { try VolumeOperations($0, confinement: confinement).create(request) }
    }

    func deleteVolume(request: Virthost_V1_VolumeRef, context: ServerContext) async throws -> Virthost_V1_Empty {
        try Self.validate(request)
        let confinement = StorageConfinement(uri: hypervisor.uri)
        return try await hypervisor.run { connection in
            let (pool, volume) = try connection.volume(pool: request.pool, name: request.name)
            try confinement.checkVolume(volume, in: pool)
            try volume.delete()
            return Virthost_V1_Empty()
        }
    }

    func resizeVolume(request: Virthost_V1_ResizeVolumeRequest, context: ServerContext) async throws -> Virthost_V1_Volume {
        try Self.validate(request.volume)
        try Validate.size(request.capacity, field: "capacity")
        let confinement = StorageConfinement(uri: hypervisor.uri)
        return try await hypervisor.run { try VolumeOperations($0, confinement: confinement).resize(request) }
    }

    /// Zeroes a volume (see ``VolumeOperations/wipe(_:)``).
    func wipeVolume(request: Virthost_V1_VolumeRef, context: ServerContext) async throws -> Virthost_V1_Volume {
        try Self.validate(request)
        let confinement = StorageConfinement(uri: hypervisor.uri)
        return try await asOperation(
            kind: "volume.wipe", object: "\(request.pool)/\(request.name)",
            immediate: { .with { $0.pool = request.pool; $0.name = request.name } }
        ) { [hypervisor] in
            try await hypervisor.run { try VolumeOperations($0, confinement: confinement).wipe(request) }
        }
    }

    func cloneVolume(request: Virthost_V1_CloneVolumeRequest, context: ServerContext) async throws -> Virthost_V1_Volume {
        try Self.validate(request.source, field: "source volume")
        try Validate.volumeName(request.newName, field: "new volume name")
        let confinement = StorageConfinement(uri: hypervisor.uri)
        return try await asOperation(
            kind: "volume.clone", object: "\(request.source.pool)/\(request.newName)", poll: cloneProgress(request),
            immediate: { .with { $0.pool = request.source.pool; $0.name = request.newName } }
        ) { [hypervisor] in
            try await hypervisor.run { try VolumeOperations($0, confinement: confinement).clone(request) }
        }
    }
}
