import GRPCCore
import VirtHostAPI

// Declared in the v1 contract, not built yet: every call answers UNIMPLEMENTED.
/// SnapshotService: machine snapshots (not built yet).
struct SnapshotServiceStub: Virthost_V1_SnapshotService.SimpleServiceProtocol {
    func createSnapshot(request: Virthost_V1_CreateSnapshotRequest, context: ServerContext) async throws -> Virthost_V1_Snapshot {
        throw RPCError.notBuilt("SnapshotService.CreateSnapshot")
    }
    func listSnapshots(request: Virthost_V1_ListSnapshotsRequest, context: ServerContext) async throws -> Virthost_V1_ListSnapshotsResponse {
        throw RPCError.notBuilt("SnapshotService.ListSnapshots")
    }
    func getSnapshotXML(request: Virthost_V1_SnapshotRef, context: ServerContext) async throws -> Virthost_V1_GetSnapshotXMLResponse {
        throw RPCError.notBuilt("SnapshotService.GetSnapshotXML")
    }
    func revertSnapshot(request: Virthost_V1_SnapshotRef, context: ServerContext) async throws -> Virthost_V1_Snapshot {
        throw RPCError.notBuilt("SnapshotService.RevertSnapshot")
    }
    func deleteSnapshot(request: Virthost_V1_DeleteSnapshotRequest, context: ServerContext) async throws -> Virthost_V1_Empty {
        throw RPCError.notBuilt("SnapshotService.DeleteSnapshot")
    }
}
