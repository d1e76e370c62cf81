import CLibvirt
import Synchronization
import Foundation
import Glibc

/// Which objects a list call returns.
public enum ListFilter: Sendable {
    case all, active, inactive
}

/// An open libvirt connection (`virConnectPtr`).
///
/// libvirt connections are thread-safe: one connection serves calls from many
/// threads at once. The handle is closed when the last reference goes away;
/// objects looked up through it keep libvirt's own reference on it.
public final class Connection: Sendable {
    /// Thread-safe in libvirt (see above); closed once, in deinit.
    nonisolated(unsafe) let handle: OpaquePointer
    /// The URI the connection was opened with.
    public let uri: String
    private let closeCallback = Mutex<CloseCallbackBox?>(nil)

    /// Opens a connection, starting libvirt's event loop first if needed.
    /// - Parameters:
    ///   - uri: e.g. `qemu:///system`, `test:///default`, `test:///abs/path/host.xml`.
    ///   - readOnly: open with `virConnectOpenReadOnly`.
    public static func open(_ uri: String, readOnly: Bool = false) throws -> Connection {
        LibvirtRuntime.start()
        let handle = readOnly ? virConnectOpenReadOnly(uri) : virConnectOpen(uri)
        return Connection(handle: try check(handle, "open \(uri)"), uri: uri)
    }

    init(handle: OpaquePointer, uri: String) {
        self.handle = handle
        self.uri = uri
    }

    deinit {
        // Once the callback has run libvirt has disarmed it, and unregistering
        // would wait for the lock libvirt holds while the callback runs: a
        // connection released from within its own close callback deadlocked
        // libvirt's event-loop thread that way.
        if let box = closeCallback.withLock({ $0 }), !box.hasFired {
            virConnectUnregisterCloseCallback(handle, connectionClosed)
        }
        virConnectClose(handle)
    }

    // MARK: Host facts

    /// The libvirt version on the other end (the daemon's, for remote URIs).
    public func libVersion() throws -> UInt64 {
        var version: UInt = 0
        _ = try check(virConnectGetLibVersion(handle, &version), "virConnectGetLibVersion")
        return UInt64(version)
    }

    /// The hypervisor's version (0 when the driver has none).
    public func hypervisorVersion() throws -> UInt64 {
        var version: UInt = 0
        _ = try check(virConnectGetVersion(handle, &version), "virConnectGetVersion")
        return UInt64(version)
    }

    /// The driver's name, e.g. `QEMU` or `TEST`.
    public func hypervisorType() throws -> String {
        String(cString: try check(virConnectGetType(handle), "virConnectGetType"))
    }

    /// The host's name.
    public func hostname() throws -> String {
        try takeString(virConnectGetHostname(handle), "virConnectGetHostname")
    }

    /// libvirt's capabilities XML.
    public func capabilities() throws -> String {
        try takeString(virConnectGetCapabilities(handle), "virConnectGetCapabilities")
    }

    /// CPU and memory facts of the host.
    public func nodeInfo() throws -> NodeInfo {
        var info = virNodeInfo()
        _ = try check(virNodeGetInfo(handle, &info), "virNodeGetInfo")
        let model = withUnsafeBytes(of: info.model) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return NodeInfo(
            model: model, memoryKiB: UInt64(info.memory), cpus: info.cpus, mhz: info.mhz,
            nodes: info.nodes, sockets: info.sockets, cores: info.cores, threads: info.threads)
    }

    /// Free memory in bytes, or nil when the driver does not report it.
    public func freeMemory() -> UInt64? {
        let free = virNodeGetFreeMemory(handle)
        if free == 0 {
            virResetLastError()
            return nil
        }
        return free
    }

    /// Storage pool capabilities XML (`virsh pool-capabilities`).
    public func storagePoolCapabilities() throws -> String {
        try takeString(virConnectGetStoragePoolCapabilities(handle, 0), "virConnectGetStoragePoolCapabilities")
    }

    // MARK: Liveness

    /// Whether the connection still works (`virConnectIsAlive`).
    public var isAlive: Bool { virConnectIsAlive(handle) == 1 }

    /// Starts keepalive probes: after `count` unanswered probes `interval`
    /// seconds apart, libvirt closes the connection and the close callback runs.
    /// - Returns: false when the driver has no keepalive (local drivers).
    @discardableResult
    public func setKeepAlive(interval: Int32, count: UInt32) -> Bool {
        let result = virConnectSetKeepAlive(handle, interval, count)
        if result != 0 { virResetLastError() }
        return result == 0
    }

    /// Why libvirt closed a connection (`virConnectCloseReason`).
    public enum CloseReason: Int32, Sendable {
        case error = 0, endOfFile = 1, keepalive = 2, client = 3
    }

    /// Registers the one callback that runs when the connection closes for any
    /// reason but our own close (daemon gone, keepalive timeout).
    ///
    /// libvirt reports the close on whichever thread notices it: its event-loop
    /// thread, or a thread in the middle of a call on this connection. There,
    /// any libvirt call would reset the failing call's error, and releasing the
    /// connection would deadlock. So `callback` runs afterwards, on a serial
    /// queue of its own, outside every libvirt lock: it may call libvirt,
    /// take locks and release the connection.
    public func onClose(_ callback: @escaping @Sendable (CloseReason) -> Void) throws {
        precondition(closeCallback.withLock { $0 == nil }, "onClose registered twice")
        let box = CloseCallbackBox(callback)
        let opaque = Unmanaged.passRetained(box).toOpaque()
        let result = virConnectRegisterCloseCallback(handle, connectionClosed, opaque) { opaque in
            if let opaque { Unmanaged<CloseCallbackBox>.fromOpaque(opaque).release() }
        }
        if result < 0 {
            Unmanaged<CloseCallbackBox>.fromOpaque(opaque).release()
            throw LibvirtError.last("virConnectRegisterCloseCallback")
        }
        closeCallback.withLock { $0 = box }
    }

    // MARK: Domains

    /// Machines, sorted by name.
    public func listDomains(_ filter: ListFilter = .all) throws -> [Domain] {
        let flags: UInt32
        switch filter {
        case .all: flags = 0
        case .active: flags = VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue
        case .inactive: flags = VIR_CONNECT_LIST_DOMAINS_INACTIVE.rawValue
        }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check(virConnectListAllDomains(handle, &list, flags), "virConnectListAllDomains")
        return collect(count, list, Domain.init(handle:)).sorted { $0.name < $1.name }
    }

    /// A machine by name; throws `VIR_ERR_NO_DOMAIN` when there is none.
    public func lookupDomain(name: String) throws -> Domain {
        Domain(handle: try check(virDomainLookupByName(handle, name), "virDomainLookupByName"))
    }

    /// A machine by UUID string.
    public func lookupDomain(uuid: String) throws -> Domain {
        Domain(handle: try check(virDomainLookupByUUIDString(handle, uuid), "virDomainLookupByUUIDString"))
    }

    /// Defines (or redefines) a persistent machine from XML.
    public func defineDomain(xml: String) throws -> Domain {
        Domain(handle: try check(virDomainDefineXML(handle, xml), "virDomainDefineXML"))
    }

    // MARK: Networks

    /// Virtual networks, sorted by name.
    public func listNetworks(_ filter: ListFilter = .all) throws -> [Network] {
        let flags: UInt32
        switch filter {
        case .all: flags = 0
        case .active: flags = VIR_CONNECT_LIST_NETWORKS_ACTIVE.rawValue
        case .inactive: flags = VIR_CONNECT_LIST_NETWORKS_INACTIVE.rawValue
        }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check(virConnectListAllNetworks(handle, &list, flags), "virConnectListAllNetworks")
        return collect(count, list, Network.init(handle:)).sorted { $0.name < $1.name }
    }

    public func lookupNetwork(name: String) throws -> Network {
        Network(handle: try check(virNetworkLookupByName(handle, name), "virNetworkLookupByName"))
    }

    public func lookupNetwork(uuid: String) throws -> Network {
        Network(handle: try check(virNetworkLookupByUUIDString(handle, uuid), "virNetworkLookupByUUIDString"))
    }

    /// Defines a persistent network from XML.
    public func defineNetwork(xml: String) throws -> Network {
        Network(handle: try check(virNetworkDefineXML(handle, xml), "virNetworkDefineXML"))
    }

    /// Creates and starts a transient network from XML (gone when stopped).
    public func createNetwork(xml: String) throws -> Network {
        Network(handle: try check(virNetworkCreateXML(handle, xml), "virNetworkCreateXML"))
    }

    // MARK: Storage pools

    /// Storage pools, sorted by name.
    public func listStoragePools(_ filter: ListFilter = .all) throws -> [StoragePool] {
        let flags: UInt32
        switch filter {
        case .all: flags = 0
        case .active: flags = VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE.rawValue
        case .inactive: flags = VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE.rawValue
        }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check(virConnectListAllStoragePools(handle, &list, flags), "virConnectListAllStoragePools")
        return collect(count, list, StoragePool.init(handle:)).sorted { $0.name < $1.name }
    }

    public func lookupStoragePool(name: String) throws -> StoragePool {
        StoragePool(handle: try check(virStoragePoolLookupByName(handle, name), "virStoragePoolLookupByName"))
    }

    public func lookupStoragePool(uuid: String) throws -> StoragePool {
        StoragePool(handle: try check(virStoragePoolLookupByUUIDString(handle, uuid), "virStoragePoolLookupByUUIDString"))
    }

    /// Defines a persistent pool from XML.
    public func defineStoragePool(xml: String) throws -> StoragePool {
        StoragePool(handle: try check(virStoragePoolDefineXML(handle, xml, 0), "virStoragePoolDefineXML"))
    }
}

/// CPU and memory facts of a host (`virNodeInfo`).
public struct NodeInfo: Sendable, Equatable {
    public var model: String
    public var memoryKiB: UInt64
    public var cpus: UInt32
    public var mhz: UInt32
    public var nodes: UInt32
    public var sockets: UInt32
    public var cores: UInt32
    public var threads: UInt32
}

/// A close callback: libvirt keeps one retain of it until the callback is
/// disarmed, the connection one more.
final class CloseCallbackBox: Sendable {
    /// Where callbacks run: never inside libvirt's own callback.
    static let queue = DispatchQueue(label: "libvirt-close-callbacks")

    let callback: @Sendable (Connection.CloseReason) -> Void
    private let fired = Mutex(false)

    init(_ callback: @escaping @Sendable (Connection.CloseReason) -> Void) { self.callback = callback }

    /// Whether libvirt has called it (and so disarmed it).
    var hasFired: Bool { fired.withLock { $0 } }

    /// Called from libvirt's callback: records the close and defers the work.
    func fire(_ reason: Connection.CloseReason) {
        fired.withLock { $0 = true }
        Self.queue.async { [self] in callback(reason) }
    }
}

// Runs with libvirt's close-callback lock held, possibly inside another
// thread's call on this connection: touch nothing of libvirt here.
private let connectionClosed: virConnectCloseFunc = { _, reason, opaque in
    guard let opaque else { return }
    let box = Unmanaged<CloseCallbackBox>.fromOpaque(opaque).takeUnretainedValue()
    box.fire(Connection.CloseReason(rawValue: reason) ?? .error)
}

/// Wraps every handle of a libvirt-allocated array and frees the array.
func collect<T>(_ count: Int32, _ list: UnsafeMutablePointer<OpaquePointer?>?, _ wrap: (OpaquePointer) -> T) -> [T] {
    guard let list else { return [] }
    defer { free(list) }
    return (0..<Int(count)).compactMap { list[$0].map(wrap) }
}

/// Reads a UUID string through a libvirt getter that fills a caller's buffer.
func uuidString(_ operation: String, _ fill: (UnsafeMutablePointer<UInt8>) -> Int32) throws -> String {
    // The raw UUID, formatted here: libvirt's *GetUUIDString formats it with
    // snprintf, on top of the snprintf every public call spends on its debug
    // line; at 1,000 machines per list those add up to milliseconds.
    var bytes = [UInt8](repeating: 0, count: 16)
    let result = bytes.withUnsafeMutableBufferPointer { fill($0.baseAddress!) }
    _ = try check(result, operation)
    return formatUUID(bytes)
}

/// 16 bytes as a lowercase 8-4-4-4-12 UUID, as libvirt writes it.
func formatUUID(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text = [UInt8]()
    text.reserveCapacity(36)
    for (index, byte) in bytes.enumerated() {
        if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: text, as: UTF8.self)
}
