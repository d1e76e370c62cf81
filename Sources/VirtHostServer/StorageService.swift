import GRPCCore
import Libvirt
import VirtHostAPI

/// StorageService: storage pools and volumes.
struct StorageService: Virthost_V1_StorageService.SimpleServiceProtocol {
    let hypervisor: HypervisorConnection

    func listPools(request: Virthost_V1_ListPoolsRequest, context: ServerContext) async throws -> Virthost_V1_ListPoolsResponse {
        let filter = try ListFilter(activeOnly: request.activeOnly, inactiveOnly: request.inactiveOnly)
        return try await hypervisor.run { connection in
            var response = Virthost_V1_ListPoolsResponse()
            response.pools = try connection.listStoragePools(filter).map(Virthost_V1_Pool.init)
            return response
        }
    }

    func getPool(request: Virthost_V1_PoolRef, context: ServerContext) async throws -> Virthost_V1_Pool {
        let ref = try ObjectRef(request)
        return try await hypervisor.run { try Virthost_V1_Pool($0.pool(ref)) }
    }

    func getPoolXML(request: Virthost_V1_GetPoolXMLRequest, context: ServerContext) async throws -> Virthost_V1_GetPoolXMLResponse {
        let ref = try ObjectRef(request.pool)
        return try await hypervisor.run { connection in
            var response = Virthost_V1_GetPoolXMLResponse()
            response.xml = try connection.pool(ref).xml(inactive: request.inactive)
            return response
        }
    }

    func listVolumes(request: Virthost_V1_ListVolumesRequest, context: ServerContext) async throws -> Virthost_V1_ListVolumesResponse {
        try Validate.lookupName(request.pool, field: "pool name")
        return try await hypervisor.run { connection in
            let pool = try connection.pool(.name(request.pool))
            var response = Virthost_V1_ListVolumesResponse()
            response.volumes = try pool.listVolumes().map { try Virthost_V1_Volume($0, pool: pool.name) }
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

    static func validate(_ ref: Virthost_V1_VolumeRef) throws {
        try Validate.lookupName(ref.pool, field: "pool name")
        try Validate.lookupName(ref.name, field: "volume name")
    }

    // Not built yet: pool lifecycle and volume changes.

    func definePool(request: Virthost_V1_DefinePoolRequest, context: ServerContext) async throws -> Virthost_V1_Pool {
        throw RPCError.notBuilt("StorageService.DefinePool")
    }
    func buildPool(request: Virthost_V1_BuildPoolRequest, context: ServerContext) async throws -> Virthost_V1_Pool {
        throw RPCError.notBuilt("StorageService.BuildPool")
    }
    func startPool(request: Virthost_V1_PoolRef, context: ServerContext) async throws -> Virthost_V1_Pool {
        throw RPCError.notBuilt("StorageService.StartPool")
    }
    func stopPool(request: Virthost_V1_PoolRef, context: ServerContext) async throws -> Virthost_V1_Pool {
        throw RPCError.notBuilt("StorageService.StopPool")
    }
    func refreshPool(request: Virthost_V1_PoolRef, context: ServerContext) async throws -> Virthost_V1_Pool {
        throw RPCError.notBuilt("StorageService.RefreshPool")
    }
    func deletePool(request: Virthost_V1_PoolRef, context: ServerContext) async throws -> Virthost_V1_Empty {
        throw RPCError.notBuilt("StorageService.DeletePool")
    }
    func undefinePool(request: Virthost_V1_PoolRef, context: ServerContext) async throws -> Virthost_V1_Empty {
        throw RPCError.notBuilt("StorageService.UndefinePool")
    }
    func setPoolAutostart(request: Virthost_V1_SetPoolAutostartRequest, context: ServerContext) async throws -> Virthost_V1_Pool {
        throw RPCError.notBuilt("StorageService.SetPoolAutostart")
    }
    func getPoolCapabilities(
        request: Virthost_V1_GetPoolCapabilitiesRequest, context: ServerContext
    ) async throws -> Virthost_V1_GetPoolCapabilitiesResponse {
        throw RPCError.notBuilt("StorageService.GetPoolCapabilities")
    }
    func createVolume(request: Virthost_V1_CreateVolumeRequest, context: ServerContext) async throws -> Virthost_V1_Volume {
        throw RPCError.notBuilt("StorageService.CreateVolume")
    }
    func deleteVolume(request: Virthost_V1_VolumeRef, context: ServerContext) async throws -> Virthost_V1_Empty {
        throw RPCError.notBuilt("StorageService.DeleteVolume")
    }
    func resizeVolume(request: Virthost_V1_ResizeVolumeRequest, context: ServerContext) async throws -> Virthost_V1_Volume {
        throw RPCError.notBuilt("StorageService.ResizeVolume")
    }
    func wipeVolume(request: Virthost_V1_VolumeRef, context: ServerContext) async throws -> Virthost_V1_Volume {
        throw RPCError.notBuilt("StorageService.WipeVolume")
    }
    func cloneVolume(request: Virthost_V1_CloneVolumeRequest, context: ServerContext) async throws -> Virthost_V1_Volume {
        throw RPCError.notBuilt("StorageService.CloneVolume")
    }
    func uploadVolume(
        request: RPCAsyncSequence<Virthost_V1_UploadVolumeRequest, any Error>, context: ServerContext
    ) async throws -> Virthost_V1_UploadVolumeResponse {
        throw RPCError.notBuilt("StorageService.UploadVolume")
    }
    func downloadVolume(
        request: Virthost_V1_DownloadVolumeRequest, response: RPCWriter<Virthost_V1_DownloadVolumeResponse>,
        context: ServerContext
    ) async throws {
        throw RPCError.notBuilt("StorageService.DownloadVolume")
    }
}
