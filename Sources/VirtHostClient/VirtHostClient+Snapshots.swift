import VirtHostAPI

// Typed calls of the snapshots area (virsh snapshot-*).

extension VirtHostClient {
    /// Takes a snapshot of a machine.
    ///
    /// - Parameters:
    ///   - diskOnly: an external, disk-only snapshot (a qcow2 overlay per disk);
    ///     otherwise internal (every disk must be qcow2).
    ///   - quiesce: freeze the guest's file systems through the guest agent
    ///     while taking it (needs `diskOnly`).
    ///   - noMetadata: take it without libvirt keeping metadata for it.
    public func createSnapshot(
        domain: String, name: String, description: String = "", diskOnly: Bool = false, quiesce: Bool = false,
        noMetadata: Bool = false
    ) async throws -> Virthost_V1_Snapshot {
        let request = Virthost_V1_CreateSnapshotRequest.with {
            $0.domain = .named(domain)
            $0.name = name
            $0.description_p = description
            $0.diskOnly = diskOnly
            $0.quiesce = quiesce
            $0.noMetadata = noMetadata
        }
        return try await call { try await snapshots.createSnapshot(request) }
    }

    /// A machine's snapshots, sorted by name.
    public func listSnapshots(domain: String) async throws -> [Virthost_V1_Snapshot] {
        try await call { try await snapshots.listSnapshots(.with { $0.domain = .named(domain) }).snapshots }
    }

    /// One page of a machine's snapshots as the agent answers it (next_page_token, event_sequence).
    public func listSnapshots(_ request: Virthost_V1_ListSnapshotsRequest) async throws -> Virthost_V1_ListSnapshotsResponse {
        try await call { try await snapshots.listSnapshots(request) }
    }

    /// A snapshot's `<domainsnapshot>` XML.
    public func snapshotXML(domain: String, name: String) async throws -> String {
        try await call { try await snapshots.getSnapshotXML(.named(domain, name)).xml }
    }

    /// Reverts a machine to a snapshot.
    @discardableResult
    public func revertSnapshot(domain: String, name: String) async throws -> Virthost_V1_Snapshot {
        try await call { try await snapshots.revertSnapshot(.named(domain, name)) }
    }

    /// Deletes a snapshot; for an external one libvirt merges the overlay back.
    ///
    /// - Parameters:
    ///   - metadataOnly: forget it in libvirt but keep its data.
    ///   - children: delete its descendants too.
    public func deleteSnapshot(domain: String, name: String, metadataOnly: Bool = false, children: Bool = false) async throws {
        let request = Virthost_V1_DeleteSnapshotRequest.with {
            $0.snapshot = .named(domain, name)
            $0.metadataOnly = metadataOnly
            $0.children = children
        }
        _ = try await call { try await snapshots.deleteSnapshot(request) }
    }
}

extension Virthost_V1_SnapshotRef {
    /// A snapshot named `name` of the machine named `domain`.
    public static func named(_ domain: String, _ name: String) -> Self {
        .with {
            $0.domain = .named(domain)
            $0.name = name
        }
    }
}
