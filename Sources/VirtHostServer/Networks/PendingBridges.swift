import Foundation
import HostNetworking
import Logging
import Synchronization

/// Bridges put over an uplink (``UplinkBridge``) that are not settled yet,
/// kept in the state database so that an agent that stops mid-change
/// finishes it when it starts again:
///
/// - `applying`: the change is being made; found at start with its writer
///   gone, it is rolled back at once (the agent died mid-change).
/// - `pending`: made and checked, waiting for ``confirm(_:)`` until the
///   deadline; then rolled back. Found at start, it is taken over: rolled
///   back at once when the deadline has passed, else when it passes.
///
/// Every change to a row and every rollback runs on the netlink thread
/// (``HostNetworkService/netlink(_:)``), so a confirmation and the timer
/// that expires the change never interleave.
final class PendingBridges: Sendable {
    let database: StateDatabase
    let logger: Logger
    private let timers = Mutex<[String: Task<Void, Never>]>([:])

    init(database: StateDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    struct Row: Sendable {
        var bridge: String
        var uplink: String
        var snapshot: UplinkSnapshot
        var state: String
        var deadline: Double?
        var owner: String
    }

    // MARK: Rows (call on the netlink thread)

    /// Records a change about to be made; refuses a bridge that already has one.
    func begin(_ snapshot: UplinkSnapshot) throws {
        if try row(snapshot.bridge) != nil {
            throw Refusal(.alreadyExists, "bridge '\(snapshot.bridge)' already has an unsettled change over an uplink")
        }
        let json = String(decoding: try JSONEncoder().encode(snapshot), as: UTF8.self)
        try database.execute(
            "INSERT INTO bridge_changes (bridge, uplink, snapshot, state, deadline, owner, created_at) VALUES (?, ?, ?, 'applying', NULL, ?, ?)",
            [.text(snapshot.bridge), .text(snapshot.uplink), .text(json), .text(StateDatabase.owner), .real(Date().timeIntervalSince1970)])
    }

    /// The change is made and checked: it waits for a confirmation until `deadline`.
    func markPending(_ bridge: String, deadline: Date) throws {
        try database.execute(
            "UPDATE bridge_changes SET state = 'pending', deadline = ? WHERE bridge = ?",
            [.real(deadline.timeIntervalSince1970), .text(bridge)])
    }

    /// The change is settled (kept or rolled back): forget it.
    func finish(_ bridge: String) {
        timers.withLock { $0.removeValue(forKey: bridge)?.cancel() }
        do {
            try database.execute("DELETE FROM bridge_changes WHERE bridge = ?", [.text(bridge)])
        } catch {
            logger.error("cannot forget the settled bridge change", metadata: ["bridge": "\(bridge)", "error": "\(error)"])
        }
    }

    func row(_ bridge: String) throws -> Row? {
        try database.query("SELECT * FROM bridge_changes WHERE bridge = ?", [.text(bridge)]).first.flatMap(Self.decode)
    }

    func all() throws -> [Row] {
        try database.query("SELECT * FROM bridge_changes ORDER BY created_at").compactMap(Self.decode)
    }

    private static func decode(_ row: StateDatabase.Row) -> Row? {
        guard let bridge = row["bridge"]?.string, let uplink = row["uplink"]?.string, let json = row["snapshot"]?.string,
            let snapshot = try? JSONDecoder().decode(UplinkSnapshot.self, from: Data(json.utf8))
        else { return nil }
        return Row(
            bridge: bridge, uplink: uplink, snapshot: snapshot, state: row["state"]?.string ?? "", deadline: row["deadline"]?.double,
            owner: row["owner"]?.string ?? "")
    }

    // MARK: Timers and recovery

    /// Rolls the change back at `deadline` unless it was confirmed by then.
    func arm(_ bridge: String, deadline: Date) {
        let task = Task { [self] in
            let wait = deadline.timeIntervalSinceNow
            if wait > 0 { try? await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
            guard !Task.isCancelled else { return }
            await expire(bridge)
        }
        timers.withLock { $0[bridge]?.cancel(); $0[bridge] = task }
    }

    /// The deadline passed: roll back when the change still waits.
    func expire(_ bridge: String) async {
        _ = try? await HostNetworkService.executor.run { [self] in
            guard let row = try? row(bridge), row.state == "pending" else { return }
            rollBack(row, reason: "no confirmation arrived before the deadline")
        }
    }

    /// Rolls a change back and forgets it; a failed rollback is logged with what failed.
    func rollBack(_ row: Row, reason: String) {
        rollBack(row.snapshot, reason: reason)
    }

    /// Rolls the change a snapshot describes back and forgets it; a failed
    /// rollback is logged, and returned, with what failed.
    @discardableResult
    func rollBack(_ snapshot: UplinkSnapshot, reason: String) -> String? {
        var failure: String?
        defer { finish(snapshot.bridge) }
        do {
            try UplinkBridge.rollBack(snapshot)
            logger.warning(
                "bridge over uplink rolled back", metadata: ["bridge": "\(snapshot.bridge)", "uplink": "\(snapshot.uplink)", "reason": "\(reason)"])
        } catch {
            logger.error(
                "bridge over uplink: the rollback failed",
                metadata: ["bridge": "\(snapshot.bridge)", "uplink": "\(snapshot.uplink)", "reason": "\(reason)", "error": "\(error)"])
            failure = "\(error)"
        }
        return failure
    }

    /// At start: settles the changes whose agent is gone. Returns how many.
    @discardableResult
    func recover() async -> Int {
        let rows = (try? await HostNetworkService.executor.run { [self] in try all() }) ?? []
        var settled = 0
        for row in rows where StateDatabase.isOwnerGone(row.owner) {
            settled += 1
            if row.state == "pending", let deadline = row.deadline, deadline > Date().timeIntervalSince1970 {
                try? database.execute("UPDATE bridge_changes SET owner = ? WHERE bridge = ?", [.text(StateDatabase.owner), .text(row.bridge)])
                logger.notice("bridge over uplink still waits for a confirmation", metadata: ["bridge": "\(row.bridge)", "deadline": "\(deadline)"])
                arm(row.bridge, deadline: Date(timeIntervalSince1970: deadline))
            } else {
                _ = try? await HostNetworkService.executor.run { [self] in
                    rollBack(row, reason: row.state == "applying" ? "the agent stopped while making the change" : "the deadline passed while the agent was stopped")
                }
            }
        }
        return settled
    }
}
