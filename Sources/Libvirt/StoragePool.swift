import CLibvirt

/// A libvirt storage pool (`virStoragePoolPtr`), freed when the last reference goes away.
public final class StoragePool: Sendable {
    /// libvirt objects may be used from any thread; freed once, in deinit.
    nonisolated(unsafe) let handle: OpaquePointer

    init(handle: OpaquePointer) { self.handle = handle }
    deinit { virStoragePoolFree(handle) }

    public var name: String { virStoragePoolGetName(handle).map { String(cString: $0) } ?? "" }

    public func uuid() throws -> String {
        try uuidString("virStoragePoolGetUUID") { virStoragePoolGetUUID(handle, $0) }
    }

    /// A pool's state (`virStoragePoolState`).
    public enum State: Int32, Sendable {
        case inactive = 0, building, running, degraded, inaccessible
    }

    /// State and sizes in bytes (`virStoragePoolGetInfo`).
    public struct Info: Sendable, Equatable {
        public var state: State
        public var capacity: UInt64
        public var allocation: UInt64
        public var available: UInt64
    }

    public func info() throws -> Info {
        var info = virStoragePoolInfo()
        _ = try check(virStoragePoolGetInfo(handle, &info), "virStoragePoolGetInfo")
        return Info(
            state: State(rawValue: info.state) ?? .inactive,
            capacity: info.capacity, allocation: info.allocation, available: info.available)
    }

    public func isActive() throws -> Bool { try check(virStoragePoolIsActive(handle), "virStoragePoolIsActive") == 1 }
    public func isPersistent() throws -> Bool { try check(virStoragePoolIsPersistent(handle), "virStoragePoolIsPersistent") == 1 }

    public func autostart() throws -> Bool {
        var value: Int32 = 0
        _ = try check(virStoragePoolGetAutostart(handle, &value), "virStoragePoolGetAutostart")
        return value != 0
    }

    public func setAutostart(_ on: Bool) throws {
        _ = try check(virStoragePoolSetAutostart(handle, on ? 1 : 0), "virStoragePoolSetAutostart")
    }

    public func xml(inactive: Bool = false) throws -> String {
        let flags = inactive ? VIR_STORAGE_XML_INACTIVE.rawValue : 0
        return try takeString(virStoragePoolGetXMLDesc(handle, flags), "virStoragePoolGetXMLDesc")
    }

    /// Builds the backing storage; `overwrite` replaces what is there.
    public func build(overwrite: Bool = false) throws {
        let flags = overwrite ? VIR_STORAGE_POOL_BUILD_OVERWRITE.rawValue : 0
        _ = try check(virStoragePoolBuild(handle, flags), "virStoragePoolBuild")
    }

    public func start() throws { _ = try check(virStoragePoolCreate(handle, 0), "virStoragePoolCreate") }
    public func stop() throws { _ = try check(virStoragePoolDestroy(handle), "virStoragePoolDestroy") }
    public func refresh() throws { _ = try check(virStoragePoolRefresh(handle, 0), "virStoragePoolRefresh") }
    public func delete() throws { _ = try check(virStoragePoolDelete(handle, 0), "virStoragePoolDelete") }
    public func undefine() throws { _ = try check(virStoragePoolUndefine(handle), "virStoragePoolUndefine") }

    public func volumeCount() throws -> Int {
        Int(try check(virStoragePoolNumOfVolumes(handle), "virStoragePoolNumOfVolumes"))
    }

    /// The pool's volumes, sorted by name.
    public func listVolumes() throws -> [StorageVolume] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check(virStoragePoolListAllVolumes(handle, &list, 0), "virStoragePoolListAllVolumes")
        return collect(count, list, StorageVolume.init(handle:)).sorted { $0.name < $1.name }
    }

    public func lookupVolume(name: String) throws -> StorageVolume {
        StorageVolume(handle: try check(virStorageVolLookupByName(handle, name), "virStorageVolLookupByName"))
    }

    /// Flags for volume creation (`virStorageVolCreateFlags`).
    public struct CreateFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let preallocateMetadata = CreateFlags(rawValue: VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA.rawValue)
        public static let reflink = CreateFlags(rawValue: VIR_STORAGE_VOL_CREATE_REFLINK.rawValue)
    }

    public func createVolume(xml: String, _ flags: CreateFlags = []) throws -> StorageVolume {
        StorageVolume(handle: try check(virStorageVolCreateXML(handle, xml, flags.rawValue), "virStorageVolCreateXML"))
    }

    /// Creates a volume as a copy of `source` (which may live in another pool).
    public func createVolume(xml: String, cloning source: StorageVolume, _ flags: CreateFlags = []) throws -> StorageVolume {
        StorageVolume(handle: try check(
            virStorageVolCreateXMLFrom(handle, xml, source.handle, flags.rawValue), "virStorageVolCreateXMLFrom"))
    }
}
