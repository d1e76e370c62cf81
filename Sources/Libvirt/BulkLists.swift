import CLibvirt
import Foundation

// Bulk reads: one libvirt round trip for many objects. A list with a flag
// (persistent, autostart, active) tells that flag for every object at once,
// where the per-object getters (`virDomainIsPersistent`, ...) cost a round
// trip each. Names, UUIDs and ids come with the handles (no round trip).

/// Which machines a bulk read covers (`virConnectListAllDomainsFlags`).
public struct DomainListFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let active = DomainListFlags(rawValue: VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue)
    public static let inactive = DomainListFlags(rawValue: VIR_CONNECT_LIST_DOMAINS_INACTIVE.rawValue)
    public static let persistent = DomainListFlags(rawValue: VIR_CONNECT_LIST_DOMAINS_PERSISTENT.rawValue)
    /// Transient machines: usually few, so this list is cheaper than the
    /// persistent one and tells the same (persistent = not transient).
    public static let transient = DomainListFlags(rawValue: VIR_CONNECT_LIST_DOMAINS_TRANSIENT.rawValue)
    public static let autostart = DomainListFlags(rawValue: VIR_CONNECT_LIST_DOMAINS_AUTOSTART.rawValue)
}

/// Which networks a bulk read covers (`virConnectListAllNetworksFlags`).
public struct NetworkListFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let active = NetworkListFlags(rawValue: VIR_CONNECT_LIST_NETWORKS_ACTIVE.rawValue)
    public static let inactive = NetworkListFlags(rawValue: VIR_CONNECT_LIST_NETWORKS_INACTIVE.rawValue)
    public static let persistent = NetworkListFlags(rawValue: VIR_CONNECT_LIST_NETWORKS_PERSISTENT.rawValue)
    /// Transient networks (persistent = not transient; usually a short list).
    public static let transient = NetworkListFlags(rawValue: VIR_CONNECT_LIST_NETWORKS_TRANSIENT.rawValue)
    public static let autostart = NetworkListFlags(rawValue: VIR_CONNECT_LIST_NETWORKS_AUTOSTART.rawValue)
}

/// Which pools a bulk read covers (`virConnectListAllStoragePoolsFlags`).
public struct PoolListFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let active = PoolListFlags(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE.rawValue)
    public static let inactive = PoolListFlags(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE.rawValue)
    public static let persistent = PoolListFlags(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_PERSISTENT.rawValue)
    public static let autostart = PoolListFlags(rawValue: VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART.rawValue)
}

extension Connection {
    /// Machines matching `flags` (all of them set), unsorted; one round trip.
    public func listDomains(flags: DomainListFlags) throws -> [Domain] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check(virConnectListAllDomains(handle, &list, flags.rawValue), "virConnectListAllDomains")
        return collect(count, list, Domain.init(handle:))
    }

    /// The UUIDs of the machines matching `flags`; one round trip.
    public func domainUUIDs(_ flags: DomainListFlags) throws -> Set<String> {
        Set(try listDomains(flags: flags).map { try $0.uuid() })
    }

    /// Networks matching `flags`, unsorted; one round trip.
    public func listNetworks(flags: NetworkListFlags) throws -> [Network] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check(virConnectListAllNetworks(handle, &list, flags.rawValue), "virConnectListAllNetworks")
        return collect(count, list, Network.init(handle:))
    }

    /// The UUIDs of the networks matching `flags`; one round trip.
    public func networkUUIDs(_ flags: NetworkListFlags) throws -> Set<String> {
        Set(try listNetworks(flags: flags).map { try $0.uuid() })
    }

    /// Pools matching `flags`, unsorted; one round trip.
    public func listStoragePools(flags: PoolListFlags) throws -> [StoragePool] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check(
            virConnectListAllStoragePools(handle, &list, flags.rawValue), "virConnectListAllStoragePools")
        return collect(count, list, StoragePool.init(handle:))
    }

    /// The UUIDs of the pools matching `flags`; one round trip.
    public func poolUUIDs(_ flags: PoolListFlags) throws -> Set<String> {
        Set(try listStoragePools(flags: flags).map { try $0.uuid() })
    }
}
