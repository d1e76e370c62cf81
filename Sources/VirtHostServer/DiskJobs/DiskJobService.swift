import Foundation
import GRPCCore
import Libvirt
import Logging
import VirtHostAPI

/// DiskJobService: disk moves and backups, each run as an operation.
///
/// Moves in ``DiskMove``, backups in ``BackupPlan`` and ``BackupStore``,
/// their XML in ``DiskJobXML``; the agent's record of backups is
/// ``BackupLedger``. Jobs are followed by polling libvirt four times a
/// second (progress, readiness, the end), the same loop after an agent
/// restart (``recover()``).
struct DiskJobService: Virthost_V1_DiskJobService.SimpleServiceProtocol {
    let hypervisor: HypervisorConnection
    let operations: OperationLedger
    let backups: BackupLedger
    let policy: GuestAgentPolicy
    var logger = Logger(label: "virthost.diskjobs")

    /// How often a running job is looked at.
    static let pollInterval = Duration.milliseconds(250)

    // MARK: Moves

    func moveDisk(request: Virthost_V1_MoveDiskRequest, context: ServerContext) async throws -> Virthost_V1_Disk {
        let ref = try ObjectRef(request.domain)
        try DiskXML.target(request.target)
        try Validate.lookupName(request.pool, field: "pool name")
        if !request.volume.isEmpty { try Validate.volumeName(request.volume, field: "new volume name") }
        if !request.format.isEmpty { try Validate.oneOf(request.format, ["qcow2", "raw"], field: "format") }
        let confinement = StorageConfinement(uri: hypervisor.uri)
        let move = try await hypervisor.run(machine: ref) { try DiskMove.plan(request, on: $0, confinement: confinement) }
        let handle: OperationHandle
        do {
            handle = try operations.start(
                kind: "disk.move", object: "\(move.domainName)/\(move.target)", cancellable: move.live, params: move.params)
        } catch {
            if move.live { _ = try? await hypervisor.run { move.deleteDestination($0) } }
            throw error
        }
        let task = Task { try await finish(move, handle: handle, start: true, confinement: confinement) }
        if CallerAccess.current.async {
            return .with {
                $0.target = move.target
                $0.sourcePool = move.sourcePool
                $0.sourceVolume = move.sourceVolume
                $0.sourcePath = move.sourcePath
            }
        }
        try await handle.waitFinished()
        return try await task.value
    }

    /// Runs a move to its end and records it: the copy (started here unless
    /// `start` is false, for a move taken over after a restart), the switch,
    /// the definition, the source's deletion.
    private func finish(_ move: DiskMove, handle: OperationHandle, start: Bool, confinement: StorageConfinement) async throws -> Virthost_V1_Disk {
        let planned = move
        var move = move
        do {
            if move.live {
                if start { try await hypervisor.run { try planned.startCopy($0) } }
                try await follow(move, handle: handle)
            } else {
                guard start else {
                    throw Refusal(.aborted, "the agent stopped while it copied the shut-off machine's volume; the copy was not finished")
                }
                let poller = Task { [hypervisor] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        let done = try? await hypervisor.run { connection in
                            try connection.volume(pool: planned.pool, name: planned.volume).1.info().allocation
                        }
                        if let done { handle.progress(done: min(done, planned.capacity), total: planned.capacity) }
                    }
                }
                defer { poller.cancel() }
                move = try await hypervisor.run { connection in
                    var copied = planned
                    try copied.copyVolume(connection)
                    return copied
                }
            }
            let finished = move
            let (disk, note) = try await hypervisor.run { connection -> (Virthost_V1_Disk, String) in
                try finished.updateDefinition(connection)
                let notes = [finished.dropCheckpoints(connection), finished.deleteSourceVolume(connection, confinement: confinement)]
                return (try finished.disk(connection), notes.filter { !$0.isEmpty }.joined(separator: "; "))
            }
            handle.finish(nil, cleanup: note)
            return disk
        } catch {
            // A copy may exist: a block copy's volume, a finished volume copy,
            // or one a stopped agent's libvirt call was making.
            let cleanup = move.live || !start || !move.path.isEmpty ? await cleanupAfterFailedMove(move) : ""
            handle.finish(error, cleanup: cleanup)
            throw error
        }
    }

    /// Stops the copy and removes the new volume, unless the machine already
    /// reads it.
    private func cleanupAfterFailedMove(_ move: DiskMove) async -> String {
        (try? await hypervisor.run { connection -> String in
            move.abortCopy(connection)
            if case .pivoted = (try? move.status(connection)) ?? .ended {
                return "the machine already reads the new volume \(move.pool)/\(move.volume); it was kept"
            }
            return move.deleteDestination(connection)
        }) ?? "libvirt did not answer; the new volume \(move.pool)/\(move.volume) may be left"
    }

    /// Follows a block copy until the machine reads the copy: progress,
    /// then the pivot once it mirrors; aborts it when the operation is cancelled.
    private func follow(_ move: DiskMove, handle: OperationHandle) async throws {
        while true {
            if handle.isCancelled {
                throw Refusal(.cancelled, "the move of \(move.target) was cancelled; the machine stays on \(move.sourcePath)")
            }
            switch try await hypervisor.run({ try move.status($0) }) {
            case .pivoted:
                return
            case .ended:
                throw Refusal(.aborted, "the copy of \(move.target) stopped before the switch (libvirt or QEMU ended it); the machine stays on \(move.sourcePath)")
            case .machineStopped:
                throw Refusal(.aborted, "machine '\(move.domainName)' stopped during the copy; it keeps \(move.sourcePath)")
            case .copying(let job):
                handle.progress(done: job.current, total: job.end)
                if job.ready, try await hypervisor.run({ try move.pivot($0) }) { return }
            }
            try await Task.sleep(for: Self.pollInterval)
        }
    }

    // MARK: Backups

    func startBackup(request: Virthost_V1_StartBackupRequest, context: ServerContext) async throws -> Virthost_V1_Backup {
        let ref = try ObjectRef(request.domain)
        try Validate.lookupName(request.pool, field: "pool name")
        for target in request.disks { try DiskXML.target(target) }
        if !request.since.isEmpty {
            guard !request.incremental else { throw Refusal.invalid("incremental and since exclude each other: since names the base itself") }
            try Validate.objectName(request.since, field: "since (a backup id)")
        }
        if request.quiesce {
            try policy.check("guest-fsfreeze-freeze", for: "a quiesced backup")
            try policy.check("guest-fsfreeze-thaw", for: "a quiesced backup")
        }
        let confinement = StorageConfinement(uri: hypervisor.uri)
        let ledger = backups
        var plan = try await hypervisor.run(machine: ref) {
            try BackupPlan.make(request, on: $0, ledger: ledger, confinement: confinement)
        }
        let handle: OperationHandle
        do {
            handle = try operations.start(
                kind: "backup", object: "\(plan.record.domain)/\(plan.record.id)", cancellable: true, params: plan.record.id)
            plan.record.operationID = handle.id
            try backups.insert(plan.record)
        } catch {
            let record = plan.record
            _ = try? await hypervisor.run { try BackupStore.deleteVolumes(record, on: $0, confinement: confinement) }
            throw error
        }
        let started = plan
        let task = Task { () async throws -> Virthost_V1_Backup in
            do {
                try await hypervisor.run { try started.begin($0) }
            } catch {
                try await failBackup(started.record, handle: handle, error: error, checkpoint: false)
            }
            return try await followBackup(started.record, handle: handle)
        }
        if CallerAccess.current.async {
            return try await hypervisor.run { BackupStore.message(started.record, on: $0) }
        }
        try await handle.waitFinished()
        return try await task.value
    }

    /// Follows a backup job to its end and records it.
    private func followBackup(_ record: BackupLedger.Record, handle: OperationHandle) async throws -> Virthost_V1_Backup {
        var aborted = false
        while true {
            if handle.isCancelled && !aborted {
                aborted = true
                _ = try? await hypervisor.run { try $0.lookupDomain(uuid: record.domainUUID).abortJob() }
            }
            let stats = try? await hypervisor.run { connection -> Domain.JobStats? in
                let domain = try connection.lookupDomain(uuid: record.domainUUID)
                guard try domain.isActive() else { return nil }
                let current = try domain.jobStats()
                return current.isRunning ? current : try domain.jobStats(completed: true)
            }
            guard let stats else {
                let error = Refusal(.aborted, "machine '\(record.domain)' stopped (or libvirt did not answer) during the backup")
                try await failBackup(record, handle: handle, error: error, checkpoint: true)
            }
            if stats.isRunning {
                handle.progress(done: stats.processed, total: stats.total)
                try await Task.sleep(for: Self.pollInterval)
                continue
            }
            guard stats.type == 3 else {  // VIR_DOMAIN_JOB_COMPLETED
                let why = stats.errorMessage.isEmpty ? "" : ": \(stats.errorMessage)"
                let error = aborted || stats.type == 5
                    ? Refusal(.cancelled, "the backup was cancelled\(why)")
                    : Refusal(.aborted, "the backup job of '\(record.domain)' failed\(why)")
                try await failBackup(record, handle: handle, error: error, checkpoint: true)
            }
            handle.progress(done: stats.processed, total: stats.total)
            try backups.finish(record.id, state: .complete)
            handle.finish(nil)
            let id = record.id
            let ledger = backups
            return try await hypervisor.run { connection in
                BackupStore.message(try ledger.record(id) ?? record, on: connection)
            }
        }
    }

    /// Records a failed backup, removes its volumes and (once begun) its
    /// checkpoint, and throws `error`.
    private func failBackup(_ record: BackupLedger.Record, handle: OperationHandle, error: any Error, checkpoint: Bool) async throws -> Never {
        let confinement = StorageConfinement(access: .agent, uri: hypervisor.uri)
        let cleanup = (try? await hypervisor.run { connection -> String in
            var notes: [String] = []
            do {
                try BackupStore.deleteVolumes(record, on: connection, confinement: confinement)
                notes.append("deleted its volumes")
            } catch {
                notes.append("could not delete its volumes: \(error)")
            }
            if checkpoint, let domain = try? connection.lookupDomain(uuid: record.domainUUID),
               (try? domain.deleteCheckpoint(name: record.id)) != nil {
                notes.append("deleted checkpoint \(record.id)")
            }
            return notes.joined(separator: "; ")
        }) ?? "libvirt did not answer; volumes of backup \(record.id) may be left"
        try? backups.finish(record.id, state: .failed, message: "\(error)")
        handle.finish(error, cleanup: cleanup)
        throw error
    }

    func listBackups(request: Virthost_V1_ListBackupsRequest, context: ServerContext) async throws -> Virthost_V1_ListBackupsResponse {
        let ref = try ObjectRef(request.domain)
        let ledger = backups
        return try await hypervisor.run(machine: ref) { connection in
            let domain = try connection.domain(ref)
            var response = Virthost_V1_ListBackupsResponse()
            response.backups = try ledger.list(domainUUID: try domain.uuid()).map { BackupStore.message($0, on: connection) }
            response.checkpoints = try domain.checkpointXMLs().map(DiskJobXML.checkpoint)
                .sorted { ($0.createdAt.seconds, $0.name) < ($1.createdAt.seconds, $1.name) }
            return response
        }
    }

    func deleteBackup(request: Virthost_V1_DeleteBackupRequest, context: ServerContext) async throws -> Virthost_V1_Empty {
        let ref = try ObjectRef(request.domain)
        try Validate.objectName(request.id, field: "backup id")
        let confinement = StorageConfinement(uri: hypervisor.uri)
        let ledger = backups
        let record = try await hypervisor.run(machine: ref) { connection -> BackupLedger.Record in
            let uuid = try connection.domain(ref).uuid()
            guard let record = try ledger.record(request.id), record.domainUUID == uuid else {
                throw Refusal(.notFound, "machine '\(request.domain.name)' has no backup '\(request.id)' (virthost backup list)")
            }
            guard record.state != .running else {
                throw Refusal(.failedPrecondition, "backup '\(record.id)' is still running; cancel its operation \(record.operationID) first")
            }
            return record
        }
        return try await operations.run(kind: "backup.delete", object: "\(record.domain)/\(record.id)", immediate: { Virthost_V1_Empty() }) { [hypervisor] _ in
            try await hypervisor.run { connection in
                // Backups made on top of this one become full ones first.
                for child in try ledger.list(domainUUID: record.domainUUID) where child.parent == record.id && child.state == .complete {
                    try ledger.becameFull(child.id, disks: try BackupStore.makeFull(child, on: connection, confinement: confinement))
                }
                // libvirt merges the checkpoint's bitmap into its parent's, so
                // the remaining checkpoints still cover every change since them.
                if let domain = try? connection.lookupDomain(uuid: record.domainUUID) {
                    try BackupStore.deleteCheckpoint(record.id, of: domain)
                }
                try BackupStore.deleteVolumes(record, on: connection, confinement: confinement)
                try ledger.delete(record.id)
                return Virthost_V1_Empty()
            }
        }
    }

    func restoreBackup(request: Virthost_V1_RestoreBackupRequest, context: ServerContext) async throws -> Virthost_V1_Volume {
        let ref = try ObjectRef(request.domain)
        try DiskXML.target(request.disk)
        try Validate.lookupName(request.pool, field: "pool name")
        try Validate.volumeName(request.volume, field: "new volume name")
        if !request.backup.isEmpty { try Validate.objectName(request.backup, field: "backup id") }
        let format = request.format.isEmpty ? "qcow2" : request.format
        try Validate.oneOf(format, ["qcow2", "raw"], field: "format")
        let confinement = StorageConfinement(uri: hypervisor.uri)
        let ledger = backups
        let (top, capacity) = try await hypervisor.run(machine: ref) { connection -> (StorageVolume, UInt64) in
            let uuid = try connection.domain(ref).uuid()
            let records = try ledger.list(domainUUID: uuid)
            let chosen = request.backup.isEmpty
                ? records.last { $0.state == .complete && $0.disk(request.disk) != nil }
                : records.first { $0.id == request.backup }
            guard let chosen else {
                throw Refusal(.notFound, request.backup.isEmpty
                    ? "machine '\(request.domain.name)' has no complete backup of disk \(request.disk)"
                    : "machine '\(request.domain.name)' has no backup '\(request.backup)' (virthost backup list)")
            }
            let chain = try BackupStore.chain(from: chosen, disk: request.disk, records: records, on: connection)
            for layer in chain {
                try confinement.checkVolume(layer.volume, in: try connection.lookupStoragePool(name: layer.record.pool))
            }
            let pool = try connection.pool(.name(request.pool))
            if (try? pool.lookupVolume(name: request.volume)) != nil {
                throw Refusal(.alreadyExists, "pool '\(pool.name)' already has a volume '\(request.volume)'")
            }
            try confinement.checkNewVolume(named: request.volume, in: pool)
            return (chain[0].volume, chosen.disk(request.disk)?.capacity ?? 0)
        }
        return try await operations.run(
            kind: "backup.restore", object: "\(request.pool)/\(request.volume)",
            immediate: { .with { $0.pool = request.pool; $0.name = request.volume } }
        ) { [hypervisor] _ in
            try await hypervisor.run { connection in
                // libvirt's copy (qemu-img convert) reads through the checked
                // backing chain and writes one standalone volume.
                let pool = try connection.pool(.name(request.pool))
                let volume = try pool.createVolume(
                    xml: DiskJobXML.newVolume(name: request.volume, capacity: capacity, format: format), cloning: top)
                return try Virthost_V1_Volume(volume, pool: pool.name)
            }
        }
    }

    // MARK: After a restart

    /// Takes over the moves and backups a stopped agent left running: a
    /// block copy libvirt still runs is followed and switched, a backup job
    /// followed to its end; what cannot be resumed is reported and cleaned up.
    /// Call before ``OperationLedger/markInterrupted()``.
    func recover() throws {
        let adopted = try operations.adopt(kinds: ["disk.move", "backup"])
        let confinement = StorageConfinement(access: .agent, uri: hypervisor.uri)
        for item in adopted {
            if let move = DiskMove.decode(item.params) {
                logger.notice("taking over a disk move", metadata: ["operation": "\(item.handle.id)", "disk": "\(move.domainName)/\(move.target)"])
                Task {
                    await waitForLibvirt()
                    _ = try? await finish(move, handle: item.handle, start: false, confinement: confinement)
                }
            } else if let record = try backups.record(item.params) {
                try backups.adopt(record.id)
                logger.notice("taking over a backup", metadata: ["operation": "\(item.handle.id)", "backup": "\(record.id)"])
                Task {
                    await waitForLibvirt()
                    _ = try? await followBackup(record, handle: item.handle)
                }
            } else {
                item.handle.finish(Refusal(.aborted, "the agent stopped while it ran, and its record cannot be read back"))
            }
        }
        for record in try backups.orphaned() {
            try backups.finish(record.id, state: .failed, message: "the agent stopped while it ran")
        }
    }

    /// Waits (up to two minutes) until libvirt answers, so that a job taken
    /// over at start is not judged on a connection still being made.
    private func waitForLibvirt() async {
        for _ in 0..<240 {
            if (try? await hypervisor.run { _ in true }) == true { return }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}
