import Foundation
import LibXML
import GRPCCore
import Libvirt
import SwiftProtobuf
import VirtHostAPI

/// HostService: versions, node facts, capabilities and health.
struct HostService: Virthost_V1_HostService.SimpleServiceProtocol {
    let hypervisor: HypervisorConnection

    func getVersion(
        request: Virthost_V1_GetVersionRequest, context: ServerContext
    ) async throws -> Virthost_V1_GetVersionResponse {
        try await hypervisor.run { connection in
            var response = Virthost_V1_GetVersionResponse()
            response.agentVersion = DaemonVersion.current
            response.libvirtVersion = LibvirtRuntime.versionString(LibvirtRuntime.libraryVersion)
            response.daemonVersion = LibvirtRuntime.versionString(try connection.libVersion())
            response.hypervisorType = try connection.hypervisorType()
            let hv = try connection.hypervisorVersion()
            response.hypervisorVersion = hv == 0 ? "" : LibvirtRuntime.versionString(hv)
            response.uri = connection.uri
            response.hostname = (try? connection.hostname()) ?? ""
            return response
        }
    }

    func getNodeInfo(
        request: Virthost_V1_GetNodeInfoRequest, context: ServerContext
    ) async throws -> Virthost_V1_GetNodeInfoResponse {
        try await hypervisor.run { connection in
            let info = try connection.nodeInfo()
            var response = Virthost_V1_GetNodeInfoResponse()
            response.cpuModel = info.model
            response.memoryBytes = info.memoryKiB * 1024
            response.cpus = info.cpus
            response.mhz = info.mhz
            response.numaNodes = info.nodes
            response.sockets = info.sockets
            response.cores = info.cores
            response.threads = info.threads
            response.freeMemoryBytes = connection.freeMemory() ?? 0
            return response
        }
    }

    func getCapabilities(
        request: Virthost_V1_GetCapabilitiesRequest, context: ServerContext
    ) async throws -> Virthost_V1_GetCapabilitiesResponse {
        let xml = try await hypervisor.run { try $0.capabilities() }
        let reader = try XMLReader(xml)
        var response = Virthost_V1_GetCapabilitiesResponse()
        response.xml = xml
        response.hostArch = reader.string("/capabilities/host/cpu/arch") ?? ""
        response.hostUuid = reader.string("/capabilities/host/uuid") ?? ""
        response.guests = reader.elements("/capabilities/guest").map { guest in
            var capability = Virthost_V1_GuestCapability()
            capability.osType = guest.child("os_type")?.stringValue ?? ""
            let arch = guest.child("arch")
            capability.arch = arch?.attr("name") ?? ""
            capability.domainTypes = arch?.elements(forName: "domain").compactMap { $0.attr("type") } ?? []
            capability.machines = arch?.elements(forName: "machine").compactMap(\.stringValue) ?? []
            return capability
        }
        return response
    }

    func getHealth(
        request: Virthost_V1_GetHealthRequest, context: ServerContext
    ) async throws -> Virthost_V1_GetHealthResponse {
        // A real round trip: isAlive alone misses a daemon that went away
        // since the last call.
        let reachable: Bool
        do {
            _ = try await hypervisor.run { try $0.libVersion() }
            reachable = true
        } catch {
            reachable = false
        }
        let state = hypervisor.state()
        var response = Virthost_V1_GetHealthResponse()
        response.status = reachable ? .serving : .notServing
        response.libvirtConnected = reachable && state.connected
        response.uri = hypervisor.uri
        response.startedAt = Google_Protobuf_Timestamp(date: hypervisor.startedAt)
        response.reconnects = UInt32(state.reconnects)
        response.detail = reachable ? "connected" : state.lastError
        response.lastEventSequence = hypervisor.events.upcomingSequence - 1
        response.eventEpoch = hypervisor.events.epoch
        return response
    }
}
