import GRPCCore
import GRPCProtobuf
import Libvirt
import SwiftProtobuf
import VirtHostAPI

/// Maps libvirt's errors onto gRPC status codes, keeping libvirt's code,
/// domain and message for the client.
public enum ErrorMapping {
    /// The `google.rpc.ErrorInfo` domain of errors that came from libvirt.
    public static let errorDomain = "libvirt.org"
    /// Plain metadata keys that carry libvirt's code and domain, for clients
    /// that do not decode `grpc-status-details-bin`.
    public static let codeMetadataKey = "virthost-libvirt-code"
    public static let domainMetadataKey = "virthost-libvirt-domain"

    /// The gRPC status code for a libvirt error code.
    public static func statusCode(for code: LibvirtError.Code) -> RPCError.Code {
        switch code {
        case .noDomain, .noNetwork, .noStoragePool, .noStorageVolume, .noNodeDevice, .noInterface, .noNWFilter, .noSecret,
            .noDomainSnapshot, .noDomainMetadata, .deviceMissing, .noDomainCheckpoint, .noDomainBackup, .noNetworkPort,
            .noHostname:
            return .notFound
        case .invalidArg, .noSource, .noTarget, .noName, .xmlError, .invalidNetwork, .xmlDetail, .invalidMAC,
            .invalidStoragePool, .invalidStorageVolume, .configUnsupported, .argumentUnsupported, .storageProbeFailed,
            .overflow, .xmlInvalidSchema, .invalidDomainCheckpoint, .invalidNetworkPort:
            return .invalidArgument
        case .domainExists, .networkExists, .storageVolumeExists, .networkPortExists:
            return .alreadyExists
        case .operationFailed, .operationInvalid, .storagePoolBuilt, .snapshotRevertRisky, .blockCopyActive, .resourceBusy,
            .cpuIncompatible, .checkpointInconsistent:
            return .failedPrecondition
        case .noSupport, .operationUnsupported:
            return .unimplemented
        case .noConnect, .invalidConnection, .rpc, .agentUnresponsive, .agentUnsynced:
            return .unavailable
        case .operationTimeout:
            return .deadlineExceeded
        case .operationDenied, .authFailed, .authCancelled, .accessDenied, .authUnavailable:
            return .permissionDenied
        case .operationAborted:
            return .aborted
        default:
            return .internalError
        }
    }

    /// A gRPC error that carries libvirt's code, domain and message as a
    /// `google.rpc.Status` (ErrorInfo plus a typed `LibvirtErrorDetail`) and
    /// as plain metadata.
    public static func rpcError(_ error: LibvirtError, context: String? = nil) -> RPCError {
        rpcError(error, code: statusCode(for: error.code), message: context.map { "\($0): \(error.message)" } ?? error.message)
    }

    /// The one builder of a libvirt error's gRPC form, with a chosen code and
    /// message (the guest-agent bridge chooses its own) and details that come
    /// before libvirt's (its `AgentErrorDetail`).
    static func rpcError(_ error: LibvirtError, code: RPCError.Code, message: String, leading: [ErrorDetails] = []) -> RPCError {
        var detail = Virthost_V1_LibvirtErrorDetail()
        detail.code = error.code.rawValue
        detail.domain = error.domain.rawValue
        detail.message = error.message
        var details = leading
        details.append(
            .errorInfo(
                reason: error.codeName, domain: errorDomain,
                metadata: ["code": String(error.code.rawValue), "domain": String(error.domain.rawValue), "message": error.message]))
        if let any = try? Google_Protobuf_Any(message: detail) { details.append(.any(any)) }
        var rpc = RPCError(GoogleRPCStatus(code: code, message: message, details: details))
        rpc.metadata.addString(String(error.code.rawValue), forKey: codeMetadataKey)
        rpc.metadata.addString(String(error.domain.rawValue), forKey: domainMetadataKey)
        return rpc
    }

    /// Any error thrown by a handler, as the gRPC error the client gets.
    static func rpcError(from error: any Error) -> any Error {
        switch error {
        case let libvirt as LibvirtError: return rpcError(libvirt)
        default: return error
        }
    }
}

extension Refusal: RPCErrorConvertible {
    var rpcErrorCode: RPCError.Code {
        switch kind {
        case .invalidArgument: .invalidArgument
        case .notFound: .notFound
        case .alreadyExists: .alreadyExists
        case .failedPrecondition: .failedPrecondition
        case .permissionDenied: .permissionDenied
        case .resourceExhausted: .resourceExhausted
        case .unimplemented: .unimplemented
        case .unavailable: .unavailable
        case .internalError: .internalError
        case .aborted: .aborted
        case .cancelled: .cancelled
        }
    }

    var rpcErrorMessage: String { message }
}
