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
    public static func statusCode(forLibvirtCode code: Int32) -> RPCError.Code {
        switch code {
        case 42, 43, 49, 50, 53, 57, 62, 66, 72, 80, 99, 101, 103, 104, 107, 108:
            // VIR_ERR_NO_DOMAIN, _NO_NETWORK, _NO_STORAGE_POOL, _NO_STORAGE_VOL,
            // _NO_NODE_DEVICE, _NO_INTERFACE, _NO_NWFILTER, _NO_SECRET,
            // _NO_DOMAIN_SNAPSHOT, _NO_DOMAIN_METADATA, _DEVICE_MISSING, ...
            return .notFound
        case 8, 19, 20, 21, 27, 35, 36, 44, 46, 47, 58, 61, 65, 67, 71, 74, 82, 92, 102, 105:
            // VIR_ERR_INVALID_ARG, _NO_SOURCE, _NO_TARGET, _NO_NAME, _XML_ERROR,
            // _XML_DETAIL, _INVALID_MAC, _CONFIG_UNSUPPORTED, _ARGUMENT_UNSUPPORTED,
            // _OVERFLOW, _XML_INVALID_SCHEMA, ...
            return .invalidArgument
        case 28, 37, 90, 106:
            // VIR_ERR_DOM_EXIST, _NETWORK_EXIST, _STORAGE_VOL_EXIST, _NETWORK_PORT_EXIST
            return .alreadyExists
        case 9, 55, 76, 77, 83, 87, 91:
            // VIR_ERR_OPERATION_FAILED, _OPERATION_INVALID (wrong state),
            // _STORAGE_POOL_BUILT, _SNAPSHOT_REVERT_RISKY, _BLOCK_COPY_ACTIVE,
            // _RESOURCE_BUSY, _CPU_INCOMPATIBLE
            return .failedPrecondition
        case 3, 84:
            // VIR_ERR_NO_SUPPORT, _OPERATION_UNSUPPORTED
            return .unimplemented
        case 5, 6, 39, 86, 97:
            // VIR_ERR_NO_CONNECT, _INVALID_CONN, _RPC, _AGENT_UNRESPONSIVE, _AGENT_UNSYNCED
            return .unavailable
        case 68:
            return .deadlineExceeded
        case 29, 45, 79, 88, 94:
            // VIR_ERR_OPERATION_DENIED, _AUTH_FAILED, _AUTH_CANCELLED, _ACCESS_DENIED, _AUTH_UNAVAILABLE
            return .permissionDenied
        case 78:
            return .aborted
        default:
            return .internalError
        }
    }

    /// A gRPC error that carries libvirt's code, domain and message as a
    /// `google.rpc.Status` (ErrorInfo plus a typed `LibvirtErrorDetail`) and
    /// as plain metadata.
    public static func rpcError(_ error: LibvirtError, context: String? = nil) -> RPCError {
        var detail = Virthost_V1_LibvirtErrorDetail()
        detail.code = error.code
        detail.domain = error.domain
        detail.message = error.message
        var details: [ErrorDetails] = [
            .errorInfo(
                reason: error.codeName, domain: errorDomain,
                metadata: ["code": String(error.code), "domain": String(error.domain), "message": error.message])
        ]
        if let any = try? Google_Protobuf_Any(message: detail) {
            details.append(.any(any))
        }
        let message = context.map { "\($0): \(error.message)" } ?? error.message
        let status = GoogleRPCStatus(code: statusCode(forLibvirtCode: error.code), message: message, details: details)
        var rpc = RPCError(status)
        rpc.metadata.addString(String(error.code), forKey: codeMetadataKey)
        rpc.metadata.addString(String(error.domain), forKey: domainMetadataKey)
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
        case .unimplemented: .unimplemented
        case .internalError: .internalError
        }
    }

    var rpcErrorMessage: String { message }
}
