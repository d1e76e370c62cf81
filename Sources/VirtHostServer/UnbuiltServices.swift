import GRPCCore
import VirtHostAPI

// Services declared in the v1 contract whose calls are not built yet.
// Every call answers UNIMPLEMENTED and names itself; none is silently empty.

/// GuestAgentService: the qemu-guest-agent bridge (not built yet).
struct GuestAgentServiceStub: Virthost_V1_GuestAgentService.SimpleServiceProtocol {
    func command(request: Virthost_V1_AgentCommandRequest, context: ServerContext) async throws -> Virthost_V1_AgentCommandResponse {
        throw RPCError.notBuilt("GuestAgentService.Command")
    }
    func ping(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_AgentPingResponse {
        throw RPCError.notBuilt("GuestAgentService.Ping")
    }
    func getInfo(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_AgentInfo {
        throw RPCError.notBuilt("GuestAgentService.GetInfo")
    }
    func getOSInfo(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_GuestOSInfo {
        throw RPCError.notBuilt("GuestAgentService.GetOSInfo")
    }
    func getHostName(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_GuestHostName {
        throw RPCError.notBuilt("GuestAgentService.GetHostName")
    }
    func getInterfaces(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_GuestInterfaces {
        throw RPCError.notBuilt("GuestAgentService.GetInterfaces")
    }
    func getFilesystems(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_GuestFilesystems {
        throw RPCError.notBuilt("GuestAgentService.GetFilesystems")
    }
    func getUsers(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_GuestUsers {
        throw RPCError.notBuilt("GuestAgentService.GetUsers")
    }
    func getTime(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_GuestTime {
        throw RPCError.notBuilt("GuestAgentService.GetTime")
    }
    func exec(request: Virthost_V1_ExecRequest, context: ServerContext) async throws -> Virthost_V1_ExecResponse {
        throw RPCError.notBuilt("GuestAgentService.Exec")
    }
    func execStream(request: Virthost_V1_ExecRequest, response: RPCWriter<Virthost_V1_ExecStreamResponse>, context: ServerContext) async throws {
        throw RPCError.notBuilt("GuestAgentService.ExecStream")
    }
    func freezeFilesystems(request: Virthost_V1_FreezeRequest, context: ServerContext) async throws -> Virthost_V1_FreezeResponse {
        throw RPCError.notBuilt("GuestAgentService.FreezeFilesystems")
    }
    func thawFilesystems(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_FreezeResponse {
        throw RPCError.notBuilt("GuestAgentService.ThawFilesystems")
    }
    func getFreezeStatus(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_FreezeStatus {
        throw RPCError.notBuilt("GuestAgentService.GetFreezeStatus")
    }
}

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

/// EventService: the event stream (not built yet).
struct EventServiceStub: Virthost_V1_EventService.SimpleServiceProtocol {
    func watch(request: Virthost_V1_WatchRequest, response: RPCWriter<Virthost_V1_Event>, context: ServerContext) async throws {
        throw RPCError.notBuilt("EventService.Watch")
    }
}

/// HostNetworkService: host bridges and TAP devices (not built yet).
struct HostNetworkServiceStub: Virthost_V1_HostNetworkService.SimpleServiceProtocol {
    func listLinks(request: Virthost_V1_ListLinksRequest, context: ServerContext) async throws -> Virthost_V1_ListLinksResponse {
        throw RPCError.notBuilt("HostNetworkService.ListLinks")
    }
    func createBridge(request: Virthost_V1_CreateBridgeRequest, context: ServerContext) async throws -> Virthost_V1_Link {
        throw RPCError.notBuilt("HostNetworkService.CreateBridge")
    }
    func deleteBridge(request: Virthost_V1_DeleteLinkRequest, context: ServerContext) async throws -> Virthost_V1_Empty {
        throw RPCError.notBuilt("HostNetworkService.DeleteBridge")
    }
    func createTap(request: Virthost_V1_CreateTapRequest, context: ServerContext) async throws -> Virthost_V1_Link {
        throw RPCError.notBuilt("HostNetworkService.CreateTap")
    }
    func deleteTap(request: Virthost_V1_DeleteLinkRequest, context: ServerContext) async throws -> Virthost_V1_Empty {
        throw RPCError.notBuilt("HostNetworkService.DeleteTap")
    }
    func addToBridge(request: Virthost_V1_BridgePortRequest, context: ServerContext) async throws -> Virthost_V1_Link {
        throw RPCError.notBuilt("HostNetworkService.AddToBridge")
    }
    func removeFromBridge(request: Virthost_V1_BridgePortRequest, context: ServerContext) async throws -> Virthost_V1_Link {
        throw RPCError.notBuilt("HostNetworkService.RemoveFromBridge")
    }
}
