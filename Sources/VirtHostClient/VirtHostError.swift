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
                libvirtCodeName: String? = nil) {
        self.code = code
        self.message = message
        self.libvirtCode = libvirtCode
        self.libvirtDomain = libvirtDomain
        self.libvirtCodeName = libvirtCodeName
    }

    /// Reads the libvirt details out of a gRPC error's `google.rpc.Status`.
    public init(_ error: RPCError) {
        var libvirtCode: Int32?
        var libvirtDomain: Int32?
        var name: String?
        if let status = try? error.unpackGoogleRPCStatus() {
            for detail in status.details {
                if let info = detail.errorInfo, info.domain == "libvirt.org" {
                    name = info.reason
                    libvirtCode = info.metadata["code"].flatMap { Int32($0) }
                    libvirtDomain = info.metadata["domain"].flatMap { Int32($0) }
                }
            }
        }
        self.init(code: error.code, message: error.message, libvirtCode: libvirtCode,
                  libvirtDomain: libvirtDomain, libvirtCodeName: name)
    }

    /// Any error from a call, as a ``VirtHostError``.
    public static func wrap(_ error: any Error) -> VirtHostError {
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
