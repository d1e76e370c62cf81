import CLibvirt
import Glibc

/// An error reported by libvirt, copied on the thread that made the failing call.
///
/// libvirt keeps its last error in thread-local storage, so the binding reads it
/// in the same closure as the call that failed (see ``LibvirtError/last(_:)``).
public struct LibvirtError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libvirt's `virErrorNumber`, e.g. 42 for `VIR_ERR_NO_DOMAIN`.
    public let code: Int32
    /// libvirt's `virErrorDomain`, e.g. 10 for `VIR_FROM_QEMU`.
    public let domain: Int32
    /// libvirt's message, unchanged.
    public let message: String

    public init(code: Int32, domain: Int32, message: String) {
        self.code = code
        self.domain = domain
        self.message = message
    }

    public var description: String { message }

    /// The symbolic name of ``code``, e.g. `VIR_ERR_NO_DOMAIN`.
    public var codeName: String { Self.codeNames[code] ?? "VIR_ERR_\(code)" }

    /// The error libvirt recorded for the calling thread, cleared after reading.
    ///
    /// Call it right after a failed libvirt call, on the same thread.
    /// - Parameter operation: names the call for the fallback message when
    ///   libvirt recorded nothing.
    public static func last(_ operation: String) -> LibvirtError {
        guard let err = virGetLastError() else {
            return LibvirtError(
                code: Int32(VIR_ERR_INTERNAL_ERROR.rawValue), domain: 0,
                message: "\(operation) failed without an error from libvirt")
        }
        let e = err.pointee
        let message = e.message.map { String(cString: $0) } ?? "\(operation) failed"
        let result = LibvirtError(code: e.code, domain: e.domain, message: message)
        virResetLastError()
        return result
    }

    // Well-known codes, named for logs and for google.rpc.ErrorInfo reasons.
    public static let noSupport = Int32(VIR_ERR_NO_SUPPORT.rawValue)
    public static let invalidArg = Int32(VIR_ERR_INVALID_ARG.rawValue)
    public static let operationInvalid = Int32(VIR_ERR_OPERATION_INVALID.rawValue)
    public static let noDomain = Int32(VIR_ERR_NO_DOMAIN.rawValue)
    public static let noNetwork = Int32(VIR_ERR_NO_NETWORK.rawValue)
    public static let noStoragePool = Int32(VIR_ERR_NO_STORAGE_POOL.rawValue)
    public static let noStorageVolume = Int32(VIR_ERR_NO_STORAGE_VOL.rawValue)
    public static let agentUnresponsive = Int32(VIR_ERR_AGENT_UNRESPONSIVE.rawValue)

    static let codeNames: [Int32: String] = [
        0: "VIR_ERR_OK", 1: "VIR_ERR_INTERNAL_ERROR", 2: "VIR_ERR_NO_MEMORY",
        3: "VIR_ERR_NO_SUPPORT", 5: "VIR_ERR_NO_CONNECT", 6: "VIR_ERR_INVALID_CONN",
        7: "VIR_ERR_INVALID_DOMAIN", 8: "VIR_ERR_INVALID_ARG", 9: "VIR_ERR_OPERATION_FAILED",
        23: "VIR_ERR_NO_DEVICE", 27: "VIR_ERR_XML_ERROR", 28: "VIR_ERR_DOM_EXIST",
        29: "VIR_ERR_OPERATION_DENIED", 35: "VIR_ERR_XML_DETAIL", 37: "VIR_ERR_NETWORK_EXIST",
        38: "VIR_ERR_SYSTEM_ERROR", 39: "VIR_ERR_RPC", 42: "VIR_ERR_NO_DOMAIN",
        43: "VIR_ERR_NO_NETWORK", 44: "VIR_ERR_INVALID_MAC", 45: "VIR_ERR_AUTH_FAILED",
        49: "VIR_ERR_NO_STORAGE_POOL", 50: "VIR_ERR_NO_STORAGE_VOL",
        53: "VIR_ERR_NO_NODE_DEVICE", 55: "VIR_ERR_OPERATION_INVALID",
        57: "VIR_ERR_NO_INTERFACE", 62: "VIR_ERR_NO_NWFILTER", 66: "VIR_ERR_NO_SECRET",
        67: "VIR_ERR_CONFIG_UNSUPPORTED", 68: "VIR_ERR_OPERATION_TIMEOUT",
        72: "VIR_ERR_NO_DOMAIN_SNAPSHOT", 74: "VIR_ERR_ARGUMENT_UNSUPPORTED",
        76: "VIR_ERR_STORAGE_POOL_BUILT", 78: "VIR_ERR_OPERATION_ABORTED",
        79: "VIR_ERR_AUTH_CANCELLED", 82: "VIR_ERR_OVERFLOW",
        84: "VIR_ERR_OPERATION_UNSUPPORTED", 86: "VIR_ERR_AGENT_UNRESPONSIVE",
        87: "VIR_ERR_RESOURCE_BUSY", 88: "VIR_ERR_ACCESS_DENIED",
        90: "VIR_ERR_STORAGE_VOL_EXIST", 92: "VIR_ERR_XML_INVALID_SCHEMA",
        94: "VIR_ERR_AUTH_UNAVAILABLE", 97: "VIR_ERR_AGENT_UNSYNCED",
        99: "VIR_ERR_DEVICE_MISSING", 103: "VIR_ERR_NO_DOMAIN_CHECKPOINT",
        106: "VIR_ERR_NETWORK_PORT_EXIST", 107: "VIR_ERR_NO_NETWORK_PORT",
        110: "VIR_ERR_MULTIPLE_DOMAINS",
    ]
}

/// Throws the thread's libvirt error when a call returned -1.
@inline(__always)
func check(_ result: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
    if result < 0 { throw LibvirtError.last(operation()) }
    return result
}

/// Unwraps a handle, throwing the thread's libvirt error when it is nil.
@inline(__always)
func check<T>(_ result: T?, _ operation: @autoclosure () -> String) throws -> T {
    guard let result else { throw LibvirtError.last(operation()) }
    return result
}

/// Takes ownership of a string libvirt allocated: copies it and frees the original.
func takeString(_ pointer: UnsafeMutablePointer<CChar>?, _ operation: @autoclosure () -> String) throws -> String {
    guard let pointer else { throw LibvirtError.last(operation()) }
    defer { free(pointer) }
    return String(cString: pointer)
}
