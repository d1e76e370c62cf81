import Foundation
import GRPCCore
import Libvirt
import SwiftProtobuf
import VirtHostAPI

/// NetworkService: libvirt virtual networks of every kind, from typed specs
/// or raw XML, their lifecycle and their DHCP.
struct NetworkService: Virthost_V1_NetworkService.SimpleServiceProtocol {
    let hypervisor: HypervisorConnection

    func listNetworks(
        request: Virthost_V1_ListNetworksRequest, context: ServerContext
    ) async throws -> Virthost_V1_ListNetworksResponse {
        let filter = try ListFilter(activeOnly: request.activeOnly, inactiveOnly: request.inactiveOnly)
        let page = try Page(.networks, size: request.pageSize, token: request.pageToken, prefix: request.namePrefix)
        let position = ListPosition(hypervisor.events)
        let parsed = hypervisor.listCaches.networks
        return try await hypervisor.run { connection in
            let (networks, next) = try NetworkOperations.list(connection, filter: filter, page: page, parsed: parsed)
            var response = Virthost_V1_ListNetworksResponse()
            response.networks = networks
            response.nextPageToken = next
            response.eventSequence = position.sequence
            response.eventEpoch = position.epoch
            return response
        }
    }

    func getNetwork(request: Virthost_V1_NetworkRef, context: ServerContext) async throws -> Virthost_V1_Network {
        let ref = try ObjectRef(request)
        return try await hypervisor.run { try NetworkOperations.message($0.network(ref)) }
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
        let definition = try NetworkDefinition(request.definition)
        try NetworkConfinement.checkDefine(request.definition)
        return try await hypervisor.run { connection in
            try NetworkOperations(connection).define(definition, start: request.start, autostart: request.autostart)
        }
    }

    func startNetwork(request: Virthost_V1_NetworkRef, context: ServerContext) async throws -> Virthost_V1_Network {
        let ref = try ObjectRef(request)
        return try await hypervisor.run { try NetworkOperations($0).start(ref) }
    }

    func stopNetwork(request: Virthost_V1_NetworkRef, context: ServerContext) async throws -> Virthost_V1_Network {
        let ref = try ObjectRef(request)
        return try await hypervisor.run { try NetworkOperations($0).stop(ref) }
    }

    func undefineNetwork(request: Virthost_V1_NetworkRef, context: ServerContext) async throws -> Virthost_V1_Empty {
        let ref = try ObjectRef(request)
        return try await hypervisor.run { connection in
            try connection.network(ref).undefine()
            return Virthost_V1_Empty()
        }
    }

    func setNetworkAutostart(
        request: Virthost_V1_SetNetworkAutostartRequest, context: ServerContext
    ) async throws -> Virthost_V1_Network {
        let ref = try ObjectRef(request.network)
        return try await hypervisor.run { connection in
            let network = try connection.network(ref)
            try network.setAutostart(request.autostart)
            return try NetworkOperations.message(network)
        }
    }

    func listDhcpLeases(
        request: Virthost_V1_ListDhcpLeasesRequest, context: ServerContext
    ) async throws -> Virthost_V1_ListDhcpLeasesResponse {
        let ref = try ObjectRef(request.network)
        if !request.mac.isEmpty { try Validate.mac(request.mac) }
        let mac = request.mac.isEmpty ? nil : request.mac.lowercased()
        let page = try Page(.leases, size: request.pageSize, token: request.pageToken, prefix: "")
        return try await hypervisor.run { connection in
            // A MAC may hold an IPv4 and an IPv6 lease: the cursor is both.
            let (leases, next) = page.select(try NetworkOperations(connection).leases(ref, mac: mac)) { "\($0.mac) \($0.ip)" }
            return Virthost_V1_ListDhcpLeasesResponse.with {
                $0.leases = leases
                $0.nextPageToken = next
            }
        }
    }

    func updateDhcpHost(request: Virthost_V1_UpdateDhcpHostRequest, context: ServerContext) async throws -> Virthost_V1_Network {
        let ref = try ObjectRef(request.network)
        let change = try DhcpHostChange(request)
        return try await hypervisor.run { try NetworkOperations($0).update(ref, change) }
    }
}
