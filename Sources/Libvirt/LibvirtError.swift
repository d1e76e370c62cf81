import CLibvirt
import Glibc

/// An error reported by libvirt, copied on the thread that made the failing call.
///
/// libvirt keeps its last error in thread-local storage, so the binding reads it
/// in the same closure as the call that failed (see ``LibvirtError/last(_:)``).
public struct LibvirtError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libvirt's `virErrorNumber`, e.g. ``Code/noDomain`` for `VIR_ERR_NO_DOMAIN`.
    public let code: Code
    /// libvirt's `virErrorDomain`: the part of libvirt that reported it, e.g. ``Origin/qemu``.
    public let domain: Origin
    /// libvirt's message, unchanged.
    public let message: String

    public init(code: Code, domain: Origin, message: String) {
        self.code = code
        self.domain = domain
        self.message = message
    }

    public var description: String { message }

    /// The symbolic name of ``code``, e.g. `VIR_ERR_NO_DOMAIN`.
    public var codeName: String { code.name }

    /// The error libvirt recorded for the calling thread, cleared after reading.
    ///
    /// Call it right after a failed libvirt call, on the same thread.
    /// - Parameter operation: names the call for the fallback message when
    ///   libvirt recorded nothing.
    public static func last(_ operation: String) -> LibvirtError {
        guard let err = virGetLastError() else {
            return LibvirtError(code: .internalError, domain: .none, message: "\(operation) failed without an error from libvirt")
        }
        let e = err.pointee
        let message = e.message.map { String(cString: $0) } ?? "\(operation) failed"
        let result = LibvirtError(code: Code(rawValue: e.code), domain: Origin(rawValue: e.domain), message: message)
        virResetLastError()
        return result
    }

    /// libvirt's error number (`virErrorNumber`), named after `VIR_ERR_*`.
    ///
    /// A struct rather than an enum: libvirt adds numbers in new releases,
    /// and a daemon newer than the headers may send one we have no name for.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        init(_ number: virErrorNumber) { rawValue = Int32(number.rawValue) }

        public static let ok = Code(VIR_ERR_OK)
        public static let internalError = Code(VIR_ERR_INTERNAL_ERROR)
        public static let noMemory = Code(VIR_ERR_NO_MEMORY)
        public static let noSupport = Code(VIR_ERR_NO_SUPPORT)
        public static let noConnect = Code(VIR_ERR_NO_CONNECT)
        public static let invalidConnection = Code(VIR_ERR_INVALID_CONN)
        public static let invalidDomain = Code(VIR_ERR_INVALID_DOMAIN)
        public static let invalidArg = Code(VIR_ERR_INVALID_ARG)
        public static let operationFailed = Code(VIR_ERR_OPERATION_FAILED)
        public static let noSource = Code(VIR_ERR_NO_SOURCE)
        public static let noTarget = Code(VIR_ERR_NO_TARGET)
        public static let noName = Code(VIR_ERR_NO_NAME)
        public static let noDevice = Code(VIR_ERR_NO_DEVICE)
        public static let xmlError = Code(VIR_ERR_XML_ERROR)
        public static let domainExists = Code(VIR_ERR_DOM_EXIST)
        public static let operationDenied = Code(VIR_ERR_OPERATION_DENIED)
        public static let xmlDetail = Code(VIR_ERR_XML_DETAIL)
        public static let invalidNetwork = Code(VIR_ERR_INVALID_NETWORK)
        public static let networkExists = Code(VIR_ERR_NETWORK_EXIST)
        public static let systemError = Code(VIR_ERR_SYSTEM_ERROR)
        public static let rpc = Code(VIR_ERR_RPC)
        public static let noDomain = Code(VIR_ERR_NO_DOMAIN)
        public static let noNetwork = Code(VIR_ERR_NO_NETWORK)
        public static let invalidMAC = Code(VIR_ERR_INVALID_MAC)
        public static let authFailed = Code(VIR_ERR_AUTH_FAILED)
        public static let invalidStoragePool = Code(VIR_ERR_INVALID_STORAGE_POOL)
        public static let invalidStorageVolume = Code(VIR_ERR_INVALID_STORAGE_VOL)
        public static let noStoragePool = Code(VIR_ERR_NO_STORAGE_POOL)
        public static let noStorageVolume = Code(VIR_ERR_NO_STORAGE_VOL)
        public static let noNodeDevice = Code(VIR_ERR_NO_NODE_DEVICE)
        public static let operationInvalid = Code(VIR_ERR_OPERATION_INVALID)
        public static let noInterface = Code(VIR_ERR_NO_INTERFACE)
        public static let noNWFilter = Code(VIR_ERR_NO_NWFILTER)
        public static let noSecret = Code(VIR_ERR_NO_SECRET)
        public static let configUnsupported = Code(VIR_ERR_CONFIG_UNSUPPORTED)
        public static let operationTimeout = Code(VIR_ERR_OPERATION_TIMEOUT)
        public static let noDomainSnapshot = Code(VIR_ERR_NO_DOMAIN_SNAPSHOT)
        public static let argumentUnsupported = Code(VIR_ERR_ARGUMENT_UNSUPPORTED)
        public static let storageProbeFailed = Code(VIR_ERR_STORAGE_PROBE_FAILED)
        public static let storagePoolBuilt = Code(VIR_ERR_STORAGE_POOL_BUILT)
        public static let snapshotRevertRisky = Code(VIR_ERR_SNAPSHOT_REVERT_RISKY)
        public static let operationAborted = Code(VIR_ERR_OPERATION_ABORTED)
        public static let authCancelled = Code(VIR_ERR_AUTH_CANCELLED)
        public static let noDomainMetadata = Code(VIR_ERR_NO_DOMAIN_METADATA)
        public static let overflow = Code(VIR_ERR_OVERFLOW)
        public static let blockCopyActive = Code(VIR_ERR_BLOCK_COPY_ACTIVE)
        public static let operationUnsupported = Code(VIR_ERR_OPERATION_UNSUPPORTED)
        public static let agentUnresponsive = Code(VIR_ERR_AGENT_UNRESPONSIVE)
        public static let resourceBusy = Code(VIR_ERR_RESOURCE_BUSY)
        public static let accessDenied = Code(VIR_ERR_ACCESS_DENIED)
        public static let storageVolumeExists = Code(VIR_ERR_STORAGE_VOL_EXIST)
        public static let cpuIncompatible = Code(VIR_ERR_CPU_INCOMPATIBLE)
        public static let xmlInvalidSchema = Code(VIR_ERR_XML_INVALID_SCHEMA)
        public static let authUnavailable = Code(VIR_ERR_AUTH_UNAVAILABLE)
        public static let agentUnsynced = Code(VIR_ERR_AGENT_UNSYNCED)
        public static let deviceMissing = Code(VIR_ERR_DEVICE_MISSING)
        public static let invalidDomainCheckpoint = Code(VIR_ERR_INVALID_DOMAIN_CHECKPOINT)
        public static let noDomainCheckpoint = Code(VIR_ERR_NO_DOMAIN_CHECKPOINT)
        public static let noDomainBackup = Code(VIR_ERR_NO_DOMAIN_BACKUP)
        public static let invalidNetworkPort = Code(VIR_ERR_INVALID_NETWORK_PORT)
        public static let networkPortExists = Code(VIR_ERR_NETWORK_PORT_EXIST)
        public static let noNetworkPort = Code(VIR_ERR_NO_NETWORK_PORT)
        public static let noHostname = Code(VIR_ERR_NO_HOSTNAME)
        public static let checkpointInconsistent = Code(VIR_ERR_CHECKPOINT_INCONSISTENT)
        public static let multipleDomains = Code(VIR_ERR_MULTIPLE_DOMAINS)

        /// libvirt's name for the code, e.g. `VIR_ERR_NO_DOMAIN`, for logs and
        /// for google.rpc.ErrorInfo reasons; `VIR_ERR_<number>` for one we have no name for.
        public var name: String { Self.names[self] ?? "VIR_ERR_\(rawValue)" }

        public var description: String { name }

        private static let names: [Code: String] = Dictionary(uniqueKeysWithValues: [
            (ok, "VIR_ERR_OK"), (internalError, "VIR_ERR_INTERNAL_ERROR"), (noMemory, "VIR_ERR_NO_MEMORY"),
            (noSupport, "VIR_ERR_NO_SUPPORT"), (noConnect, "VIR_ERR_NO_CONNECT"), (invalidConnection, "VIR_ERR_INVALID_CONN"),
            (invalidDomain, "VIR_ERR_INVALID_DOMAIN"), (invalidArg, "VIR_ERR_INVALID_ARG"),
            (operationFailed, "VIR_ERR_OPERATION_FAILED"), (noSource, "VIR_ERR_NO_SOURCE"), (noTarget, "VIR_ERR_NO_TARGET"),
            (noName, "VIR_ERR_NO_NAME"), (noDevice, "VIR_ERR_NO_DEVICE"), (xmlError, "VIR_ERR_XML_ERROR"),
            (domainExists, "VIR_ERR_DOM_EXIST"), (operationDenied, "VIR_ERR_OPERATION_DENIED"), (xmlDetail, "VIR_ERR_XML_DETAIL"),
            (invalidNetwork, "VIR_ERR_INVALID_NETWORK"), (networkExists, "VIR_ERR_NETWORK_EXIST"),
            (systemError, "VIR_ERR_SYSTEM_ERROR"), (rpc, "VIR_ERR_RPC"), (noDomain, "VIR_ERR_NO_DOMAIN"),
            (noNetwork, "VIR_ERR_NO_NETWORK"), (invalidMAC, "VIR_ERR_INVALID_MAC"), (authFailed, "VIR_ERR_AUTH_FAILED"),
            (invalidStoragePool, "VIR_ERR_INVALID_STORAGE_POOL"), (invalidStorageVolume, "VIR_ERR_INVALID_STORAGE_VOL"),
            (noStoragePool, "VIR_ERR_NO_STORAGE_POOL"), (noStorageVolume, "VIR_ERR_NO_STORAGE_VOL"),
            (noNodeDevice, "VIR_ERR_NO_NODE_DEVICE"), (operationInvalid, "VIR_ERR_OPERATION_INVALID"),
            (noInterface, "VIR_ERR_NO_INTERFACE"), (noNWFilter, "VIR_ERR_NO_NWFILTER"), (noSecret, "VIR_ERR_NO_SECRET"),
            (configUnsupported, "VIR_ERR_CONFIG_UNSUPPORTED"), (operationTimeout, "VIR_ERR_OPERATION_TIMEOUT"),
            (noDomainSnapshot, "VIR_ERR_NO_DOMAIN_SNAPSHOT"), (argumentUnsupported, "VIR_ERR_ARGUMENT_UNSUPPORTED"),
            (storageProbeFailed, "VIR_ERR_STORAGE_PROBE_FAILED"), (storagePoolBuilt, "VIR_ERR_STORAGE_POOL_BUILT"),
            (snapshotRevertRisky, "VIR_ERR_SNAPSHOT_REVERT_RISKY"), (operationAborted, "VIR_ERR_OPERATION_ABORTED"),
            (authCancelled, "VIR_ERR_AUTH_CANCELLED"), (noDomainMetadata, "VIR_ERR_NO_DOMAIN_METADATA"),
            (overflow, "VIR_ERR_OVERFLOW"), (blockCopyActive, "VIR_ERR_BLOCK_COPY_ACTIVE"),
            (operationUnsupported, "VIR_ERR_OPERATION_UNSUPPORTED"), (agentUnresponsive, "VIR_ERR_AGENT_UNRESPONSIVE"),
            (resourceBusy, "VIR_ERR_RESOURCE_BUSY"), (accessDenied, "VIR_ERR_ACCESS_DENIED"),
            (storageVolumeExists, "VIR_ERR_STORAGE_VOL_EXIST"), (cpuIncompatible, "VIR_ERR_CPU_INCOMPATIBLE"),
            (xmlInvalidSchema, "VIR_ERR_XML_INVALID_SCHEMA"), (authUnavailable, "VIR_ERR_AUTH_UNAVAILABLE"),
            (agentUnsynced, "VIR_ERR_AGENT_UNSYNCED"), (deviceMissing, "VIR_ERR_DEVICE_MISSING"),
            (invalidDomainCheckpoint, "VIR_ERR_INVALID_DOMAIN_CHECKPOINT"), (noDomainCheckpoint, "VIR_ERR_NO_DOMAIN_CHECKPOINT"),
            (noDomainBackup, "VIR_ERR_NO_DOMAIN_BACKUP"), (invalidNetworkPort, "VIR_ERR_INVALID_NETWORK_PORT"),
            (networkPortExists, "VIR_ERR_NETWORK_PORT_EXIST"), (noNetworkPort, "VIR_ERR_NO_NETWORK_PORT"),
            (noHostname, "VIR_ERR_NO_HOSTNAME"), (checkpointInconsistent, "VIR_ERR_CHECKPOINT_INCONSISTENT"),
            (multipleDomains, "VIR_ERR_MULTIPLE_DOMAINS"),
        ])
    }

    /// The part of libvirt that reported an error (`virErrorDomain`), named
    /// after `VIR_FROM_*`: the ones this project meets; others keep their number.
    public struct Origin: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        init(_ domain: virErrorDomain) { rawValue = Int32(domain.rawValue) }

        public static let none = Origin(VIR_FROM_NONE)
        public static let xen = Origin(VIR_FROM_XEN)
        public static let xml = Origin(VIR_FROM_XML)
        public static let remote = Origin(VIR_FROM_REMOTE)
        public static let rpc = Origin(VIR_FROM_RPC)
        public static let qemu = Origin(VIR_FROM_QEMU)
        public static let net = Origin(VIR_FROM_NET)
        public static let test = Origin(VIR_FROM_TEST)
        public static let domain = Origin(VIR_FROM_DOMAIN)
        public static let network = Origin(VIR_FROM_NETWORK)
        public static let storage = Origin(VIR_FROM_STORAGE)
        public static let security = Origin(VIR_FROM_SECURITY)
        public static let nodeDevice = Origin(VIR_FROM_NODEDEV)
        public static let domainSnapshot = Origin(VIR_FROM_DOMAIN_SNAPSHOT)
        public static let stream = Origin(VIR_FROM_STREAMS)
        public static let access = Origin(VIR_FROM_ACCESS)
        public static let domainCheckpoint = Origin(VIR_FROM_DOMAIN_CHECKPOINT)

        private static let names: [Origin: String] = Dictionary(uniqueKeysWithValues: [
            (none, "VIR_FROM_NONE"), (xen, "VIR_FROM_XEN"), (xml, "VIR_FROM_XML"), (remote, "VIR_FROM_REMOTE"),
            (rpc, "VIR_FROM_RPC"), (qemu, "VIR_FROM_QEMU"), (net, "VIR_FROM_NET"), (test, "VIR_FROM_TEST"),
            (domain, "VIR_FROM_DOMAIN"), (network, "VIR_FROM_NETWORK"), (storage, "VIR_FROM_STORAGE"),
            (security, "VIR_FROM_SECURITY"), (nodeDevice, "VIR_FROM_NODEDEV"), (domainSnapshot, "VIR_FROM_DOMAIN_SNAPSHOT"),
            (stream, "VIR_FROM_STREAMS"), (access, "VIR_FROM_ACCESS"), (domainCheckpoint, "VIR_FROM_DOMAIN_CHECKPOINT"),
        ])

        /// libvirt's name, e.g. `VIR_FROM_QEMU`; `VIR_FROM_<number>` for one we have no name for.
        public var name: String { Self.names[self] ?? "VIR_FROM_\(rawValue)" }

        public var description: String { name }
    }
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
