import Foundation
import VirtHostAPI

/// The agent's record of backups (table `backups` of ``StateDatabase``):
/// which volumes hold which disk, which checkpoint and parent each has.
/// libvirt keeps the checkpoints; only the agent knows the volumes.
final class BackupLedger: Sendable {
    let database: StateDatabase

    init(database: StateDatabase) { self.database = database }

    /// One disk's volume in a backup.
    struct Disk: Codable, Sendable, Equatable {
        var target: String
        var volume: String
        /// The volume's path when the backup was made (an incremental
        /// volume's qcow2 header names its parent's by this path).
        var path: String
        var capacity: UInt64
    }

    /// One backup as recorded.
    struct Record: Sendable, Equatable {
        var id: String
        var domain: String
        var domainUUID: String
        var parent: String
        var incremental: Bool
        var state: Virthost_V1_BackupState
        var pool: String
        var disks: [Disk]
        var createdAt: Double
        var completedAt: Double?
        var message: String
        var quiesced: Bool
        var operationID: String
        var owner: String

        func disk(_ target: String) -> Disk? { disks.first { $0.target == target } }
    }

    func insert(_ record: Record) throws {
        try database.execute(
            """
            INSERT INTO backups (id, domain, domain_uuid, parent, incremental, state, pool, disks, created_at, quiesced, operation_id, owner)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(record.id), .text(record.domain), .text(record.domainUUID), .text(record.parent),
             .integer(record.incremental ? 1 : 0), .integer(Int64(record.state.rawValue)), .text(record.pool),
             .text(Self.encode(record.disks)), .real(record.createdAt), .integer(record.quiesced ? 1 : 0),
             .text(record.operationID), .text(StateDatabase.owner)])
    }

    /// Records the end of a backup job.
    func finish(_ id: String, state: Virthost_V1_BackupState, message: String = "") throws {
        try database.execute(
            "UPDATE backups SET state = ?, completed_at = ?, message = ? WHERE id = ?",
            [.integer(Int64(state.rawValue)), .real(Date().timeIntervalSince1970), .text(message), .text(id)])
    }

    /// A backup rewritten as a full one (its parent is being deleted).
    func becameFull(_ id: String, disks: [Disk]) throws {
        try database.execute(
            "UPDATE backups SET parent = '', incremental = 0, disks = ? WHERE id = ?", [.text(Self.encode(disks)), .text(id)])
    }

    func delete(_ id: String) throws {
        try database.execute("DELETE FROM backups WHERE id = ?", [.text(id)])
    }

    /// A machine's backups, oldest first.
    func list(domainUUID: String) throws -> [Record] {
        try database.query("SELECT * FROM backups WHERE domain_uuid = ? ORDER BY created_at, id", [.text(domainUUID)])
            .map(Self.record)
    }

    func record(_ id: String) throws -> Record? {
        try database.query("SELECT * FROM backups WHERE id = ?", [.text(id)]).first.map(Self.record)
    }

    /// Backups left running by a stopped agent.
    func orphaned() throws -> [Record] {
        try database.query("SELECT * FROM backups WHERE state = ?", [.integer(Int64(Virthost_V1_BackupState.running.rawValue))])
            .map(Self.record)
            .filter { StateDatabase.isOwnerGone($0.owner) }
    }

    /// Marks a backup as this agent's (it takes over a job a stopped agent started).
    func adopt(_ id: String) throws {
        try database.execute("UPDATE backups SET owner = ? WHERE id = ?", [.text(StateDatabase.owner), .text(id)])
    }

    private static func encode(_ disks: [Disk]) -> String {
        String(decoding: (try? JSONEncoder().encode(disks)) ?? Data("[]".utf8), as: UTF8.self)
    }

    private static func record(_ row: StateDatabase.Row) -> Record {
        Record(
            id: row["id"]?.string ?? "", domain: row["domain"]?.string ?? "", domainUUID: row["domain_uuid"]?.string ?? "",
            parent: row["parent"]?.string ?? "", incremental: row["incremental"]?.int == 1,
            state: Virthost_V1_BackupState(rawValue: Int(row["state"]?.int ?? 0)) ?? .unspecified,
            pool: row["pool"]?.string ?? "",
            disks: (try? JSONDecoder().decode([Disk].self, from: Data((row["disks"]?.string ?? "[]").utf8))) ?? [],
            createdAt: row["created_at"]?.double ?? 0, completedAt: row["completed_at"]?.double,
            message: row["message"]?.string ?? "", quiesced: row["quiesced"]?.int == 1,
            operationID: row["operation_id"]?.string ?? "", owner: row["owner"]?.string ?? "")
    }
}
