import Foundation
import GRPCCore
import Synchronization

/// Request ids (idempotency keys): the first call with an id runs and its
/// outcome is recorded; a retry with the same id and the same request gets
/// the recorded outcome back; a retry while the first still runs waits for
/// it. Rows live in ``StateDatabase`` (table `requests`) for `ttl`.
public final class RequestLedger: Sendable {
    /// The metadata key a client sends its request id under.
    public static let metadataKey = "virthost-request-id"

    /// A recorded outcome.
    struct Outcome: Sendable {
        /// The response message, serialized; nil for a failure.
        var response: Data?
        var code: Int
        var message: String
        /// The failure's metadata (status details), as key/value pairs.
        var metadata: [(key: String, value: String, binary: Bool)]
    }

    /// What to do with a call that carries a request id.
    enum Start: Sendable {
        /// Run it: this call owns the id now.
        case run
        /// Answer the recorded outcome.
        case replay(Outcome)
        /// The call that had this id ended without a known outcome.
        case indeterminate(String)
    }

    let database: StateDatabase
    let ttl: Duration
    /// Ids whose first call runs in this process, with the calls waiting for it.
    private let running = Mutex<[String: [CheckedContinuation<Bool, Never>]]>([:])
    private let lastPurge = Mutex<Date>(.distantPast)

    public init(database: StateDatabase, ttl: Duration = .seconds(24 * 3600)) {
        self.database = database
        self.ttl = ttl
    }

    /// Whether `id` is a request id the agent accepts.
    static func problem(with id: String) -> String? {
        guard !id.isEmpty, id.utf8.count <= 128 else { return "must be 1-128 characters" }
        guard id.unicodeScalars.allSatisfy({
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._:-".unicodeScalars.contains($0))
        }) else { return "may hold only letters, digits, '.', '_', ':' and '-'" }
        return nil
    }

    /// Claims `id` for a call of `method` whose request hashes to `hash`, or
    /// says how to answer it. Waits (cancellably) while another call with the
    /// id runs in this process.
    func start(id: String, method: String, hash: String, uid: UInt32) async throws -> Start {
        purgeIfDue()
        while true {
            let now = Date().timeIntervalSince1970
            // The id is marked running here before the claim commits (under
            // the database's lock), so a concurrent retry that reads the row
            // finds it running here and waits, never "stopped".
            let rows: [StateDatabase.Row]
            do {
                rows = try database.transaction { tx -> [StateDatabase.Row] in
                    let rows = try tx.query("SELECT * FROM requests WHERE id = ?", [.text(id)])
                    if rows.isEmpty {
                        running.withLock { $0[id] = [] }
                        try tx.execute(
                            "INSERT INTO requests (id, method, request_hash, uid, state, created_at, owner) VALUES (?, ?, ?, ?, 'running', ?, ?)",
                            [.text(id), .text(method), .text(hash), .integer(Int64(uid)), .real(now), .text(StateDatabase.owner)])
                    }
                    return rows
                }
            } catch {
                wake(id)
                throw error
            }
            guard let row = rows.first else { return .run }
            let recordedMethod = row["method"]?.string ?? ""
            guard recordedMethod == method, row["request_hash"]?.string == hash else {
                let when = Date(timeIntervalSince1970: row["created_at"]?.double ?? 0)
                throw Refusal(
                    .failedPrecondition,
                    "request id '\(id)' was used at \(ISO8601DateFormatter().string(from: when)) for a different request "
                        + "(\(recordedMethod.split(separator: "/").last ?? "")); use a new id for a new request")
            }
            switch row["state"]?.string {
            case "done":
                return .replay(Self.outcome(row))
            case "indeterminate":
                return .indeterminate(row["status_message"]?.string ?? "")
            default:
                // Running: here (wait for it), or in an agent that stopped.
                let waiting: Bool = await withCheckedContinuation { continuation in
                    let registered = running.withLock { running -> Bool in
                        guard running[id] != nil else { return false }
                        running[id]!.append(continuation)
                        return true
                    }
                    if !registered { continuation.resume(returning: false) }
                }
                if !waiting {
                    // Not running here: the agent stopped while it ran (see markInterrupted).
                    return .indeterminate("the agent stopped while the first call with this id ran")
                }
                try Task.checkCancellation()
            }
        }
    }

    /// Records the outcome of the call that owns `id` and wakes its waiters.
    func finish(id: String, _ outcome: Outcome) {
        let metadata = try? JSONSerialization.data(withJSONObject: outcome.metadata.map {
            ["key": $0.key, "value": $0.value, "binary": $0.binary] as [String: Any]
        })
        try? database.execute(
            """
            UPDATE requests SET state = 'done', status_code = ?, status_message = ?, status_metadata = ?, response = ?,
            finished_at = ? WHERE id = ?
            """,
            [.integer(Int64(outcome.code)), .text(outcome.message), metadata.map { .blob($0) } ?? .null,
             outcome.response.map { .blob($0) } ?? .null, .real(Date().timeIntervalSince1970), .text(id)])
        wake(id)
    }

    /// The call that owns `id` ended without a known outcome (its deadline
    /// passed or it was cancelled while libvirt may still finish the work).
    func finishIndeterminate(id: String, reason: String) {
        try? database.execute(
            "UPDATE requests SET state = 'indeterminate', status_message = ?, finished_at = ? WHERE id = ?",
            [.text(reason), .real(Date().timeIntervalSince1970), .text(id)])
        wake(id)
    }

    /// Frees `id` for a retry to run again: the call did nothing (the agent
    /// refused it before any work, e.g. libvirt unreachable, limits).
    func release(id: String) {
        try? database.execute("DELETE FROM requests WHERE id = ? AND state = 'running'", [.text(id)])
        wake(id)
    }

    private func wake(_ id: String) {
        let waiters = running.withLock { $0.removeValue(forKey: id) } ?? []
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// At start: calls that were running when the agent stopped have no
    /// known outcome. Returns how many.
    @discardableResult
    public func markInterrupted() throws -> Int {
        let rows = try database.query("SELECT id, owner FROM requests WHERE state = 'running'")
            .filter { StateDatabase.isOwnerGone($0["owner"]?.string ?? "") }
        for row in rows {
            try database.execute(
                "UPDATE requests SET state = 'indeterminate', status_message = 'the agent stopped while it ran', finished_at = ? WHERE id = ?",
                [.real(Date().timeIntervalSince1970), row["id"] ?? .null])
        }
        return rows.count
    }

    /// Drops records older than the ttl, at most once a minute.
    func purgeIfDue() {
        let now = Date()
        let due = lastPurge.withLock { last -> Bool in
            guard now.timeIntervalSince(last) > 60 else { return false }
            last = now
            return true
        }
        guard due else { return }
        let cutoff = now.timeIntervalSince1970 - Double(ttl.components.seconds)
        try? database.execute("DELETE FROM requests WHERE created_at < ? AND state != 'running'", [.real(cutoff)])
    }

    private static func outcome(_ row: StateDatabase.Row) -> Outcome {
        var metadata: [(key: String, value: String, binary: Bool)] = []
        if let data = row["status_metadata"]?.data,
           let items = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] {
            metadata = items.compactMap { item in
                guard let key = item["key"] as? String, let value = item["value"] as? String else { return nil }
                return (key, value, item["binary"] as? Bool ?? false)
            }
        }
        return Outcome(
            response: row["response"]?.data, code: Int(row["status_code"]?.int ?? 2),
            message: row["status_message"]?.string ?? "", metadata: metadata)
    }
}
