import GRPCCore
import VirtHostAPI

// Declared in the v1 contract, not built yet: every call answers UNIMPLEMENTED.
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
