import GRPCCore
import GRPCProtobuf
import VirtHostAPI

/// The one error type of ``VirtHostClient``: the gRPC status of a failed call,
/// with libvirt's code, domain and message when the failure came from libvirt.
public struct VirtHostError: Error, Sendable, CustomStringConvertible {
    /// The gRPC status code, e.g. `.notFound`.
    public let code: RPCError.Code
    /// The agent's message.
    public let message: String
    /// libvirt's `virErrorNumber` (e.g. 42 for `VIR_ERR_NO_DOMAIN`), when libvirt failed.
    public let libvirtCode: Int32?
    /// libvirt's `virErrorDomain`, when libvirt failed.
    public let libvirtDomain: Int32?
    /// libvirt's symbolic code name, e.g. `VIR_ERR_NO_DOMAIN`, when libvirt failed.
    public let libvirtCodeName: String?
    /// What the qemu guest agent replied (its error class, the command and
    /// its description), when the guest agent refused a command.
    public let agentError: Virthost_V1_AgentErrorDetail?

    /// The gRPC code in its canonical spelling, e.g. `NOT_FOUND`.
    public var codeName: String {
        switch code {
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internalError: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        default: "\(code)"
        }
    }

    public var description: String {
        var text = "\(codeName): \(message)"
        if let libvirtCodeName { text += " [libvirt \(libvirtCodeName)]" }
        return text
    }

    public init(code: RPCError.Code, message: String, libvirtCode: Int32? = nil, libvirtDomain: Int32? = nil,
                libvirtCodeName: String? = nil, agentError: Virthost_V1_AgentErrorDetail? = nil) {
        self.code = code
        self.message = message
        self.libvirtCode = libvirtCode
        self.libvirtDomain = libvirtDomain
        self.libvirtCodeName = libvirtCodeName
        self.agentError = agentError
    }

    /// Reads the typed details out of a gRPC error's `google.rpc.Status`:
    /// `LibvirtErrorDetail` (with libvirt's code name from the ErrorInfo
    /// beside it) and `AgentErrorDetail`.
    public init(_ error: RPCError) {
        var libvirt: Virthost_V1_LibvirtErrorDetail?
        var agent: Virthost_V1_AgentErrorDetail?
        var name: String?
        if let status = try? error.unpackGoogleRPCStatus() {
            for detail in status.details {
                if let any = detail.any {
                    if let found = try? Virthost_V1_LibvirtErrorDetail(unpackingAny: any) { libvirt = found }
                    if let found = try? Virthost_V1_AgentErrorDetail(unpackingAny: any) { agent = found }
                }
                // libvirt's ErrorInfo gives the code's name as its reason.
                if let info = detail.errorInfo, info.reason.hasPrefix("VIR_ERR_") { name = info.reason }
            }
        }
        self.init(code: error.code, message: error.message, libvirtCode: libvirt?.code,
                  libvirtDomain: libvirt?.domain, libvirtCodeName: libvirt == nil ? nil : name, agentError: agent)
    }

    /// Any error from a call, as a ``VirtHostError``. When the agent could
    /// not be reached and `socketPath` is given, the message says why, as
    /// the kernel does: permission denied (not in the socket's group), no
    /// socket there, or nothing listening.
    public static func wrap(_ error: any Error, socketPath: String? = nil) -> VirtHostError {
        if let socketPath, let rpc = error as? RPCError, rpc.code == .unavailable,
           rpc.message.hasPrefix("cannot reach the ttrpc socket") || rpc.message.contains("establish a connection"),
           let problem = SocketDiagnosis.problem(connecting: socketPath) {
            return VirtHostError(code: problem.hasPrefix("permission denied") ? .permissionDenied : .unavailable, message: problem)
        }
        switch error {
        case let error as VirtHostError: return error
        case let error as RPCError where error.code == .unavailable && error.message.hasPrefix("cannot reach the ttrpc socket"):
            return VirtHostError(
                code: .unavailable,
                message: "\(error.message). Is virthostd running with --ttrpc-socket, and is the socket path right?")
        case let error as RPCError where error.code == .unavailable && error.message.contains("establish a connection"):
            return VirtHostError(
                code: .unavailable, message: "\(error.message) Is virthostd running, and is the socket path right?")
        case let error as RPCError: return VirtHostError(error)
        default: return VirtHostError(code: .unknown, message: "\(error)")
        }
    }
}
