import GRPCCore
import Synchronization
import VirtHostAPI

/// `grpc.health.v1.Health`, the standard health service that
/// `grpc_health_probe`, Kubernetes' gRPC probes and load balancers ask.
///
/// The overall status (service `""`) and that of every virthost.v1 service
/// follow libvirt, exactly as `HostService.GetHealth` reports it: SERVING
/// while the connection is open and the probe's last call answered,
/// NOT_SERVING while libvirtd is gone, frozen or refusing. The standard
/// services themselves (health, reflection) never need libvirt and are always
/// SERVING. Any other name is NOT_FOUND (Check) or SERVICE_UNKNOWN (Watch).
///
/// Open to every caller, even one with no role (see ``MethodRoles``): a probe
/// learns nothing about the host from it.
struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus

    /// The fully qualified names of the services that follow libvirt.
    static let libvirtServices: Set<String> = MethodRoles.services
    /// The services that do not need libvirt.
    static let standardServices: Set<String> = [
        "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
    ]

    let hypervisor: HypervisorConnection
    /// Set once the agent shuts down, so that open Watch streams end.
    let shutdown: HealthShutdown
    /// How often a Watch looks at libvirt's state.
    var pollInterval: Duration = .milliseconds(250)

    /// The status of `service`, or nil when the agent does not serve it.
    func status(of service: String) -> Status? {
        if service.isEmpty || Self.libvirtServices.contains(service) {
            return hypervisor.libvirtServing ? .serving : .notServing
        }
        return Self.standardServices.contains(service) ? .serving : nil
    }

    func check(
        request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard let status = status(of: request.service) else {
            throw RPCError(code: .notFound, message: "unknown service \"\(request.service)\"")
        }
        return .with { $0.status = status }
    }

    func list(
        request: Grpc_Health_V1_HealthListRequest, context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthListResponse {
        var response = Grpc_Health_V1_HealthListResponse()
        for service in Self.libvirtServices.union(Self.standardServices).union([""]) {
            response.statuses[service] = .with { $0.status = status(of: service) ?? .unknown }
        }
        return response
    }

    /// Sends the status at once, then whenever it changes; an unknown
    /// service gets SERVICE_UNKNOWN and the stream stays open, as the
    /// protocol asks. Ends when the client cancels or the agent stops.
    func watch(
        request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            // grpc-swift signals a client's cancel through the context, not
            // by cancelling this task.
            group.addTask {
                try? await context.cancellation.cancelled
            }
            group.addTask { [self] in
                var last: Status?
                while !Task.isCancelled && !shutdown.isShuttingDown {
                    let now = status(of: request.service) ?? .serviceUnknown
                    if now != last {
                        try await response.write(.with { $0.status = now })
                        last = now
                    }
                    try await Task.sleep(for: pollInterval)
                }
            }
            // Whichever ends first (client gone, agent stopping) ends the call.
            _ = try await group.next()
            group.cancelAll()
        }
    }
}

/// Tells open health Watch streams that the agent is stopping (a graceful
/// shutdown waits for every stream to end).
final class HealthShutdown: Sendable {
    private let flag = Atomic<Bool>(false)

    var isShuttingDown: Bool { flag.load(ordering: .relaxed) }

    func begin() { flag.store(true, ordering: .relaxed) }
}

extension HypervisorConnection {
    /// Whether libvirt serves calls: the connection is open and the probe
    /// neither waits on libvirtd nor saw it fail. GetHealth's `status`.
    var libvirtServing: Bool {
        state().connected && probe.unanswered == nil && probe.failure == nil
    }
}
