import GRPCCore
import Libvirt
import VirtHostAPI

/// NetworkService: libvirt virtual networks.
struct NetworkService: Virthost_V1_NetworkService.SimpleServiceProtocol {
    let hypervisor: HypervisorConnection

    func listNetworks(
        request: Virthost_V1_ListNetworksRequest, context: ServerContext
    ) async throws -> Virthost_V1_ListNetworksResponse {
        let filter = try ListFilter(activeOnly: request.activeOnly, inactiveOnly: request.inactiveOnly)
        return try await hypervisor.run { connection in
            var response = Virthost_V1_ListNetworksResponse()
            response.networks = try connection.listNetworks(filter).map(Virthost_V1_Network.init)
            return response
        }
    }

    func getNetwork(request: Virthost_V1_NetworkRef, context: ServerContext) async throws -> Virthost_V1_Network {
        let ref = try ObjectRef(request)
        return try await hypervisor.run { try Virthost_V1_Network($0.network(ref)) }
    }

    func getNetworkXML(
        request: Virthost_V1_GetNetworkXMLRequest, context: ServerContext
    ) async throws -> Virthost_V1_GetNetworkXMLResponse {
        let ref = try ObjectRef(request.network)
        return try await hypervisor.run { connection in
            var response = Virthost_V1_GetNetworkXMLResponse()
            response.xml = try connection.network(ref).xml(inactive: request.inactive)
            return response
        }
    }

    func defineNetwork(request: Virthost_V1_DefineNetworkRequest, context: ServerContext) async throws -> Virthost_V1_Network {
        throw RPCError.notBuilt("NetworkService.DefineNetwork")
    }

    func startNetwork(request: Virthost_V1_NetworkRef, context: ServerContext) async throws -> Virthost_V1_Network {
        throw RPCError.notBuilt("NetworkService.StartNetwork")
    }

    func stopNetwork(request: Virthost_V1_NetworkRef, context: ServerContext) async throws -> Virthost_V1_Network {
        throw RPCError.notBuilt("NetworkService.StopNetwork")
    }

    func undefineNetwork(request: Virthost_V1_NetworkRef, context: ServerContext) async throws -> Virthost_V1_Empty {
        throw RPCError.notBuilt("NetworkService.UndefineNetwork")
    }

    func setNetworkAutostart(
        request: Virthost_V1_SetNetworkAutostartRequest, context: ServerContext
    ) async throws -> Virthost_V1_Network {
        throw RPCError.notBuilt("NetworkService.SetNetworkAutostart")
    }

    func listDhcpLeases(
        request: Virthost_V1_ListDhcpLeasesRequest, context: ServerContext
    ) async throws -> Virthost_V1_ListDhcpLeasesResponse {
        throw RPCError.notBuilt("NetworkService.ListDhcpLeases")
    }

    func updateDhcpHost(request: Virthost_V1_UpdateDhcpHostRequest, context: ServerContext) async throws -> Virthost_V1_Network {
        throw RPCError.notBuilt("NetworkService.UpdateDhcpHost")
    }
}
