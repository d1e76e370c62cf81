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
        var response = Virthost_V1_GetVersionResponse()
        response.agentVersion = DaemonVersion.current
        response.libvirtVersion = LibvirtRuntime.versionString(LibvirtRuntime.libraryVersion)
        response.uri = hypervisor.uri
        // The daemon's part only when it answers: the agent's part never waits
        // on a hung daemon, and a daemon that is gone fails at once.
        guard hypervisor.probe.unanswered == nil else { return response }
        let daemon = try? await hypervisor.run { connection in
            let hypervisorVersion = try connection.hypervisorVersion()
            return (
                version: LibvirtRuntime.versionString(try connection.libVersion()), type: try connection.hypervisorType(),
                hypervisorVersion: hypervisorVersion == 0 ? "" : LibvirtRuntime.versionString(hypervisorVersion),
                hostname: (try? connection.hostname()) ?? "")
        }
        if let daemon {
            response.daemonVersion = daemon.version
            response.hypervisorType = daemon.type
            response.hypervisorVersion = daemon.hypervisorVersion
            response.hostname = daemon.hostname
        }
        return response
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

    /// Answers from what the agent knows, without a call to libvirtd: the
    /// connection's state, the probe's verdict (``LibvirtProbe``, which makes
    /// a round trip every second) and the worker threads.
    func getHealth(
        request: Virthost_V1_GetHealthRequest, context: ServerContext
    ) async throws -> Virthost_V1_GetHealthResponse {
        let state = hypervisor.state()
        let silent = hypervisor.probe.unanswered
        let failure = hypervisor.probe.failure
        let threads = hypervisor.executor.statistics
        let serving = state.connected && silent == nil && failure == nil
        var response = Virthost_V1_GetHealthResponse()
        response.status = serving ? .serving : .notServing
        response.libvirtConnected = state.connected
        response.libvirtResponsive = silent == nil
        response.libvirtSilentMs = silent.map { UInt64($0.components.seconds) * 1000 + UInt64($0.components.attoseconds / 1_000_000_000_000_000) } ?? 0
        response.uri = hypervisor.uri
        response.startedAt = Google_Protobuf_Timestamp(date: hypervisor.startedAt)
        response.uptimeSeconds = UInt64(max(0, Date().timeIntervalSince(hypervisor.startedAt)))
        response.reconnects = UInt32(state.reconnects)
        response.detail = silent.map { "libvirtd has not answered for \(HypervisorConnection.seconds($0)) s" }
            ?? (!state.connected ? state.lastError : failure.map { "libvirtd does not answer: \($0)" } ?? "connected")
        response.lastEventSequence = hypervisor.events.upcomingSequence - 1
        response.eventEpoch = hypervisor.events.epoch
        response.callsInFlight = UInt32(clamping: hypervisor.callsInFlight)
        response.libvirtThreads = UInt32(clamping: threads.threads)
        response.stuckThreads = UInt32(clamping: threads.stuck)
        response.replacedThreads = UInt64(threads.replaced)
        return response
    }
}
