import CLibvirt

/// A volume in a storage pool (`virStorageVolPtr`), freed when the last reference goes away.
public final class StorageVolume: Sendable {
    /// libvirt objects may be used from any thread; freed once, in deinit.
    nonisolated(unsafe) let handle: OpaquePointer

    init(handle: OpaquePointer) { self.handle = handle }
    deinit { virStorageVolFree(handle) }

    public var name: String { virStorageVolGetName(handle).map { String(cString: $0) } ?? "" }

    public func key() throws -> String {
        String(cString: try check(virStorageVolGetKey(handle), "virStorageVolGetKey"))
    }

    public func path() throws -> String {
        try takeString(virStorageVolGetPath(handle), "virStorageVolGetPath")
    }

    /// A volume's kind (`virStorageVolType`).
    public enum Kind: Int32, Sendable {
        case file = 0, block, dir, network, netdir, ploop
    }

    /// Kind and sizes in bytes (`virStorageVolGetInfoFlags`).
    public struct Info: Sendable, Equatable {
        public var kind: Kind
        public var capacity: UInt64
        public var allocation: UInt64
    }

    /// - Parameter physical: report the host's physical size as allocation
    ///   instead of what the format says is used.
    public func info(physical: Bool = false) throws -> Info {
        var info = virStorageVolInfo()
        if physical {
            let flags = VIR_STORAGE_VOL_GET_PHYSICAL.rawValue
            _ = try check(virStorageVolGetInfoFlags(handle, &info, flags), "virStorageVolGetInfoFlags")
        } else {
            // The plain call: every driver has it (the test driver lacks the Flags variant).
            _ = try check(virStorageVolGetInfo(handle, &info), "virStorageVolGetInfo")
        }
        return Info(kind: Kind(rawValue: info.type) ?? .file, capacity: info.capacity, allocation: info.allocation)
    }

    public func xml() throws -> String {
        try takeString(virStorageVolGetXMLDesc(handle, 0), "virStorageVolGetXMLDesc")
    }

    public func delete() throws { _ = try check(virStorageVolDelete(handle, 0), "virStorageVolDelete") }
    public func wipe() throws { _ = try check(virStorageVolWipe(handle, 0), "virStorageVolWipe") }

    /// Flags for ``resize(capacity:_:)`` (`virStorageVolResizeFlags`).
    public struct ResizeFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let allocate = ResizeFlags(rawValue: VIR_STORAGE_VOL_RESIZE_ALLOCATE.rawValue)
        public static let shrink = ResizeFlags(rawValue: VIR_STORAGE_VOL_RESIZE_SHRINK.rawValue)
    }

    public func resize(capacity: UInt64, _ flags: ResizeFlags = []) throws {
        _ = try check(virStorageVolResize(handle, capacity, flags.rawValue), "virStorageVolResize")
    }
}
