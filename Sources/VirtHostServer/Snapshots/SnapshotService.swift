import GRPCCore
import Libvirt
import VirtHostAPI

/// SnapshotService: machine snapshots (virsh snapshot-create-as, -list,
/// -dumpxml, -revert, -delete).
///
/// What libvirt 9.0 with QEMU does, as tried on the test guest: internal
/// snapshots need every disk in qcow2 (a running machine's snapshot then
/// holds its memory too); disk-only snapshots are external (a qcow2 overlay
/// per disk, also over a raw disk) and may be quiesced through the guest
/// agent; deleting an external snapshot merges its overlay back; reverting to
/// an external snapshot is not supported yet ("revert to external snapshot
/// not supported yet", VIR_ERR_CONFIG_UNSUPPORTED, so INVALID_ARGUMENT here).
/// libvirt itself refuses a quiesce without disk-only; this service says so
/// before asking.
struct SnapshotService: Virthost_V1_SnapshotService.SimpleServiceProtocol {
    let hypervisor: HypervisorConnection
    let policy: GuestAgentPolicy

    func createSnapshot(request: Virthost_V1_CreateSnapshotRequest, context: ServerContext) async throws -> Virthost_V1_Snapshot {
        let ref = try ObjectRef(request.domain)
        try Validate.objectName(request.name, field: "snapshot name")
        try GuestAgentInput.text(request.description_p, field: "description", limit: 4096, allowEmpty: true)
        if request.quiesce {
            guard request.diskOnly else {
                throw Refusal.invalid("quiesce needs disk_only: libvirt freezes the guest's file systems only for disk-only snapshots")
            }
            // libvirt sends these two through the agent itself.
            try policy.check("guest-fsfreeze-freeze", for: "a quiesced snapshot")
            try policy.check("guest-fsfreeze-thaw", for: "a quiesced snapshot")
        }
        var flags: Domain.SnapshotCreateFlags = []
        if request.diskOnly { flags.formUnion([.diskOnly, .atomic]) }
        if request.quiesce { flags.insert(.quiesce) }
        if request.noMetadata { flags.insert(.noMetadata) }
        let xml = SnapshotXML.create(name: request.name, description: request.description_p)
        return try await hypervisor.run(machine: ref) { [flags] connection in
            let snapshot = try connection.domain(ref).createSnapshot(xml: xml, flags)
            // Without metadata libvirt forgets it at once: describe it from the request.
            if request.noMetadata {
                var result = Virthost_V1_Snapshot()
                result.name = request.name
                result.domain = snapshot.domain.name
                result.description_p = request.description_p
                result.diskOnly = request.diskOnly
                return result
            }
            return try Virthost_V1_Snapshot(snapshot)
        }
    }

    func listSnapshots(
        request: Virthost_V1_ListSnapshotsRequest, context: ServerContext
    ) async throws -> Virthost_V1_ListSnapshotsResponse {
        let ref = try ObjectRef(request.domain)
        let page = try Page(.snapshots, size: request.pageSize, token: request.pageToken, prefix: request.namePrefix)
        let position = ListPosition(hypervisor.events)
        return try await hypervisor.run(machine: ref) { connection in
            let (snapshots, next) = page.select(try connection.domain(ref).listSnapshots(), name: \.name)
            var response = Virthost_V1_ListSnapshotsResponse()
            response.snapshots = try snapshots.map(Virthost_V1_Snapshot.init)
            response.nextPageToken = next
            response.eventSequence = position.sequence
            response.eventEpoch = position.epoch
            return response
        }
    }

    func getSnapshotXML(request: Virthost_V1_SnapshotRef, context: ServerContext) async throws -> Virthost_V1_GetSnapshotXMLResponse {
        let (ref, name) = try Self.check(request)
        return try await hypervisor.run(machine: ref) { connection in
            let xml = try connection.snapshot(ref, name).xml()
            return .with { $0.xml = xml }
        }
    }

    func revertSnapshot(request: Virthost_V1_SnapshotRef, context: ServerContext) async throws -> Virthost_V1_Snapshot {
        let (ref, name) = try Self.check(request)
        return try await hypervisor.run(machine: ref) { connection in
            let snapshot = try connection.snapshot(ref, name)
            try snapshot.revert()
            return try Virthost_V1_Snapshot(snapshot)
        }
    }

    func deleteSnapshot(request: Virthost_V1_DeleteSnapshotRequest, context: ServerContext) async throws -> Virthost_V1_Empty {
        let (ref, name) = try Self.check(request.snapshot)
        var flags: DomainSnapshot.DeleteFlags = []
        if request.metadataOnly { flags.insert(.metadataOnly) }
        if request.children { flags.insert(.children) }
        return try await hypervisor.run(machine: ref) { [flags] connection in
            try connection.snapshot(ref, name).delete(flags)
            return Virthost_V1_Empty()
        }
    }

    static func check(_ request: Virthost_V1_SnapshotRef) throws -> (ObjectRef, String) {
        let ref = try ObjectRef(request.domain)
        try Validate.lookupName(request.name, field: "snapshot name")
        return (ref, request.name)
    }
}

extension Connection {
    /// A machine's snapshot, both named in the error when missing.
    func snapshot(_ ref: ObjectRef, _ name: String) throws -> DomainSnapshot {
        let domain = try self.domain(ref)
        return try ObjectRef.name(name).lookup(
            "snapshot of \(ref.describe("domain"))", byName: domain.lookupSnapshot(name:), byUUID: domain.lookupSnapshot(name:))
    }
}

extension Virthost_V1_Snapshot {
    /// Runs on a libvirt thread.
    init(_ snapshot: DomainSnapshot) throws {
        self.init()
        name = snapshot.name
        domain = snapshot.domain.name
        current = (try? snapshot.isCurrent()) ?? false
        parent = (try snapshot.parent())?.name ?? ""
        try SnapshotXML.read(try snapshot.xml(), into: &self)
    }
}
