import GRPCCore
import Libvirt
import VirtHostAPI

/// StorageService: storage pools and volumes, what virsh pool-* and vol-* do.
///
/// Pools here; volumes in `StorageService+Volumes.swift`; upload and download
/// in `StorageService+Transfer.swift`. Input is checked before libvirt sees it.
struct StorageService: Virthost_V1_StorageService.SimpleServiceProtocol {
    let hypervisor: HypervisorConnection
    /// Where long work is recorded (uploads, downloads, clones, wipes, pool builds and deletes).
    let operations: OperationLedger

    // MARK: Reading

    func listPools(request: Virthost_V1_ListPoolsRequest, context: ServerContext) async throws -> Virthost_V1_ListPoolsResponse {
        let filter = try ListFilter(activeOnly: request.activeOnly, inactiveOnly: request.inactiveOnly)
        return try await hypervisor.run { connection in
            var response = Virthost_V1_ListPoolsResponse()
            response.pools = try Listing.live(connection.listStoragePools(filter), Virthost_V1_Pool.described)
            return response
        }
    }

    func getPool(request: Virthost_V1_PoolRef, context: ServerContext) async throws -> Virthost_V1_Pool {
        let ref = try ObjectRef(request)
        return try await hypervisor.run { try Virthost_V1_Pool.described($0.pool(ref)) }
    }

    func getPoolXML(request: Virthost_V1_GetPoolXMLRequest, context: ServerContext) async throws -> Virthost_V1_GetPoolXMLResponse {
        let ref = try ObjectRef(request.pool)
        return try await hypervisor.run { connection in
            var response = Virthost_V1_GetPoolXMLResponse()
            response.xml = try connection.pool(ref).xml(inactive: request.inactive)
            return response
        }
    }

    func getPoolCapabilities(
        request: Virthost_V1_GetPoolCapabilitiesRequest, context: ServerContext
    ) async throws -> Virthost_V1_GetPoolCapabilitiesResponse {
        let xml = try await hypervisor.run { try $0.storagePoolCapabilities() }
        var response = Virthost_V1_GetPoolCapabilitiesResponse()
        response.xml = xml
        response.types = try VolumeXML.capabilities(xml)
        return response
    }

    // MARK: Lifecycle

    /// Defines a pool, then builds, starts and marks it autostart as asked
    /// (``PoolOperations/define(xml:build:overwrite:start:autostart:)``).
    func definePool(request: Virthost_V1_DefinePoolRequest, context: ServerContext) async throws -> Virthost_V1_Pool {
        let xml: String
        switch request.definition {
        case .spec(let spec): xml = try PoolSpecXML.xml(spec)
        case .xml(let raw):
            try Validate.xmlDocument(raw, root: "pool")
            xml = raw
        case nil: throw Refusal.invalid("give the pool as a spec or as xml")
        }
        if request.overwrite && !request.build { throw Refusal.invalid("overwrite applies to build: set build too") }
        try StorageConfinement(uri: hypervisor.uri).checkDefine(request)
        return try await hypervisor.run { connection in
            try PoolOperations(connection).define(
                xml: xml, build: request.build, overwrite: request.overwrite, start: request.start, autostart: request.autostart)
        }
    }

    func buildPool(request: Virthost_V1_BuildPoolRequest, context: ServerContext) async throws -> Virthost_V1_Pool {
        let ref = try ObjectRef(request.pool)
        let confinement = StorageConfinement(uri: hypervisor.uri)
        return try await asOperation(
            kind: "pool.build", object: request.pool.name.isEmpty ? request.pool.uuid : request.pool.name,
            immediate: { .with { $0.name = request.pool.name; $0.uuid = request.pool.uuid } }
        ) { [hypervisor] in
            try await hypervisor.run { connection in
                let pool = try connection.pool(ref)
                try confinement.checkBuildOrDelete(pool, verb: "build")
                try pool.build(overwrite: request.overwrite)
                return try Virthost_V1_Pool.described(pool)
            }
        }
    }

    func startPool(request: Virthost_V1_PoolRef, context: ServerContext) async throws -> Virthost_V1_Pool {
        try await change(request) { pool in
            try GlusterGuard.check(poolXML: try pool.xml())
            try pool.start()
        }
    }

    func stopPool(request: Virthost_V1_PoolRef, context: ServerContext) async throws -> Virthost_V1_Pool {
        try await change(request) { try $0.stop() }
    }

    func refreshPool(request: Virthost_V1_PoolRef, context: ServerContext) async throws -> Virthost_V1_Pool {
        try await change(request) { try $0.refresh() }
    }

    func deletePool(request: Virthost_V1_PoolRef, context: ServerContext) async throws -> Virthost_V1_Empty {
        let ref = try ObjectRef(request)
        let confinement = StorageConfinement(uri: hypervisor.uri)
        return try await asOperation(
            kind: "pool.delete", object: request.name.isEmpty ? request.uuid : request.name, immediate: { Virthost_V1_Empty() }
        ) { [hypervisor] in
            try await hypervisor.run { connection in
                let pool = try connection.pool(ref)
                try confinement.checkBuildOrDelete(pool, verb: "delete")
                try pool.delete()
                return Virthost_V1_Empty()
            }
        }
    }

    func undefinePool(request: Virthost_V1_PoolRef, context: ServerContext) async throws -> Virthost_V1_Empty {
        let ref = try ObjectRef(request)
        return try await hypervisor.run { connection in
            try connection.pool(ref).undefine()
            return Virthost_V1_Empty()
        }
    }

    func setPoolAutostart(request: Virthost_V1_SetPoolAutostartRequest, context: ServerContext) async throws -> Virthost_V1_Pool {
        try await change(request.pool) { try $0.setAutostart(request.autostart) }
    }

    /// Looks the pool up, applies `body`, returns the pool as it is now.
    private func change(
        _ request: Virthost_V1_PoolRef, _ body: @escaping @Sendable (StoragePool) throws -> Void
    ) async throws -> Virthost_V1_Pool {
        let ref = try ObjectRef(request)
        return try await hypervisor.run { connection in
            let pool = try connection.pool(ref)
            try body(pool)
            return try Virthost_V1_Pool.described(pool)
        }
    }
}
