import GRPCCore
import VirtHostAPI

// Declared in the v1 contract, not built yet: every call answers UNIMPLEMENTED.
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
    func createVlan(request: Virthost_V1_CreateVlanRequest, context: ServerContext) async throws -> Virthost_V1_Link {
        throw RPCError.notBuilt("HostNetworkService.CreateVlan")
    }
    func createBond(request: Virthost_V1_CreateBondRequest, context: ServerContext) async throws -> Virthost_V1_Link {
        throw RPCError.notBuilt("HostNetworkService.CreateBond")
    }
    func deleteLink(request: Virthost_V1_DeleteLinkRequest, context: ServerContext) async throws -> Virthost_V1_Empty {
        throw RPCError.notBuilt("HostNetworkService.DeleteLink")
    }
}
