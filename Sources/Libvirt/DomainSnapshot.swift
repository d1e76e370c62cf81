import CLibvirt
import Glibc

/// A snapshot of a machine (`virDomainSnapshotPtr`), freed when the last
/// reference goes away. It keeps its domain alive.
public final class DomainSnapshot: Sendable {
    /// libvirt objects may be used from any thread; freed once, in deinit.
    nonisolated(unsafe) let handle: OpaquePointer
    /// The machine the snapshot belongs to.
    public let domain: Domain

    init(handle: OpaquePointer, domain: Domain) {
        self.handle = handle
        self.domain = domain
    }

    deinit { virDomainSnapshotFree(handle) }

    /// The snapshot's name.
    public var name: String { virDomainSnapshotGetName(handle).map { String(cString: $0) } ?? "" }

    /// Flags for ``xml(_:)`` (`virDomainSnapshotXMLFlags`).
    public struct XMLFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let secure = XMLFlags(rawValue: VIR_DOMAIN_SNAPSHOT_XML_SECURE.rawValue)
    }

    /// The snapshot's `<domainsnapshot>` XML.
    public func xml(_ flags: XMLFlags = []) throws -> String {
        try takeString(virDomainSnapshotGetXMLDesc(handle, flags.rawValue), "virDomainSnapshotGetXMLDesc")
    }

    /// Whether this is the machine's current snapshot.
    public func isCurrent() throws -> Bool {
        try check(virDomainSnapshotIsCurrent(handle, 0), "virDomainSnapshotIsCurrent") == 1
    }

    /// Whether libvirt keeps metadata for the snapshot.
    public func hasMetadata() throws -> Bool {
        try check(virDomainSnapshotHasMetadata(handle, 0), "virDomainSnapshotHasMetadata") == 1
    }

    /// The parent snapshot, or nil for a root.
    public func parent() throws -> DomainSnapshot? {
        if let parent = virDomainSnapshotGetParent(handle, 0) {
            return DomainSnapshot(handle: parent, domain: domain)
        }
        let error = LibvirtError.last("virDomainSnapshotGetParent")
        // VIR_ERR_NO_DOMAIN_SNAPSHOT: a root snapshot has no parent.
        if error.code == .noDomainSnapshot { return nil }
        throw error
    }

    /// How ``revert(_:)`` leaves the machine (`virDomainSnapshotRevertFlags`).
    public struct RevertFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let running = RevertFlags(rawValue: VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING.rawValue)
        public static let paused = RevertFlags(rawValue: VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED.rawValue)
        public static let force = RevertFlags(rawValue: VIR_DOMAIN_SNAPSHOT_REVERT_FORCE.rawValue)
    }

    /// Reverts the machine to this snapshot.
    public func revert(_ flags: RevertFlags = []) throws {
        _ = try check(virDomainRevertToSnapshot(handle, flags.rawValue), "virDomainRevertToSnapshot")
    }

    /// What ``delete(_:)`` removes (`virDomainSnapshotDeleteFlags`).
    public struct DeleteFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let children = DeleteFlags(rawValue: VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN.rawValue)
        public static let metadataOnly = DeleteFlags(rawValue: VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY.rawValue)
        public static let childrenOnly = DeleteFlags(rawValue: VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY.rawValue)
    }

    /// Deletes the snapshot (for an external one, libvirt merges the overlay back).
    public func delete(_ flags: DeleteFlags = []) throws {
        _ = try check(virDomainSnapshotDelete(handle, flags.rawValue), "virDomainSnapshotDelete")
    }
}

extension Domain {
    /// How ``createSnapshot(xml:_:)`` takes the snapshot (`virDomainSnapshotCreateFlags`).
    public struct SnapshotCreateFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Only the disks, as new external overlay files.
        public static let diskOnly = SnapshotCreateFlags(rawValue: VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY.rawValue)
        /// Freeze the guest's file systems through the guest agent while taking it.
        public static let quiesce = SnapshotCreateFlags(rawValue: VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE.rawValue)
        /// Keep no libvirt metadata for it.
        public static let noMetadata = SnapshotCreateFlags(rawValue: VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA.rawValue)
        /// All disks or none (for disk-only snapshots of a running machine).
        public static let atomic = SnapshotCreateFlags(rawValue: VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC.rawValue)
        /// Leave the machine paused afterwards.
        public static let halt = SnapshotCreateFlags(rawValue: VIR_DOMAIN_SNAPSHOT_CREATE_HALT.rawValue)
    }

    /// Takes a snapshot from a `<domainsnapshot>` document.
    public func createSnapshot(xml: String, _ flags: SnapshotCreateFlags = []) throws -> DomainSnapshot {
        let snapshot = try check(virDomainSnapshotCreateXML(handle, xml, flags.rawValue), "virDomainSnapshotCreateXML")
        return DomainSnapshot(handle: snapshot, domain: self)
    }

    /// The machine's snapshots, sorted by name.
    public func listSnapshots() throws -> [DomainSnapshot] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check(virDomainListAllSnapshots(handle, &list, 0), "virDomainListAllSnapshots")
        return collect(count, list) { DomainSnapshot(handle: $0, domain: self) }.sorted { $0.name < $1.name }
    }

    public func lookupSnapshot(name: String) throws -> DomainSnapshot {
        let snapshot = try check(virDomainSnapshotLookupByName(handle, name, 0), "virDomainSnapshotLookupByName")
        return DomainSnapshot(handle: snapshot, domain: self)
    }
}
