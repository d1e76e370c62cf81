import Foundation
import GRPCCore
import SwiftProtobuf
import Synchronization
import VirtHostAPI

/// Long work as operations: recorded in ``StateDatabase`` (table
/// `operations`) when they start, as they progress (at most twice a second)
/// and when they end; announced on the event stream; waited for and
/// cancelled by any client through ``OperationService``.
public final class OperationLedger: Sendable {
    let database: StateDatabase
    let events: EventHub
    /// Operations running in this process.
    private let live = Mutex<[String: OperationHandle]>([:])

    public init(database: StateDatabase, events: EventHub) {
        self.database = database
        self.events = events
    }

    /// Records a new running operation for the current caller
    /// (``CallerAccess``) and returns its handle; the call's response
    /// carries its id (metadata `virthost-operation-id`).
    /// - Parameter params: what an agent restarted while the operation runs
    ///   needs to take it over (see ``adopt(kinds:)``), as JSON.
    func start(kind: String, object: String, total: UInt64 = 0, cancellable: Bool, params: String = "") throws -> OperationHandle {
        let caller = CallerAccess.current
        let id = UUID().uuidString.lowercased()
        let now = Date().timeIntervalSince1970
        try database.execute(
            """
            INSERT INTO operations (id, kind, object, uid, pid, state, total, unit, started_at, cancellable, request_id, owner, params)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'bytes', ?, ?, ?, ?, ?)
            """,
            [.text(id), .text(kind), .text(object), .integer(Int64(caller.uid)), .integer(Int64(caller.pid)),
             .integer(Int64(Virthost_V1_OperationState.running.rawValue)), .integer(Int64(total)), .real(now),
             .integer(cancellable ? 1 : 0), .text(caller.requestID ?? ""), .text(StateDatabase.owner), .text(params)])
        let handle = OperationHandle(id: id, ledger: self, started: now, total: total)
        live.withLock { $0[id] = handle }
        caller.note.operationID = id
        announce(id, type: "operation-started")
        return handle
    }

    /// Runs `work` as an operation detached from the call: it goes on when
    /// the caller leaves or its deadline passes, and with `virthost-async: 1`
    /// the call answers `immediate()` at once. `poll` may report progress
    /// while the work runs.
    func run<T: Sendable>(
        kind: String, object: String, cancellable: Bool = false, params: String = "",
        poll: (@Sendable (OperationHandle) async -> Void)? = nil,
        immediate: @escaping @Sendable () -> T,
        work: @escaping @Sendable (OperationHandle) async throws -> T
    ) async throws -> T {
        let handle = try start(kind: kind, object: object, cancellable: cancellable, params: params)
        // An unstructured task: it keeps the caller's task-locals (role,
        // confinement) but not its cancellation.
        let task = Task {
            let poller = poll.map { body in Task { await body(handle) } }
            defer { poller?.cancel() }
            do {
                let result = try await work(handle)
                handle.finish(nil)
                return result
            } catch {
                handle.finish(error)
                throw error
            }
        }
        if CallerAccess.current.async { return immediate() }
        try await handle.waitFinished()
        return try await task.value
    }

    /// At start, before ``markInterrupted()``: takes over the running
    /// operations of these kinds that a stopped agent left, so that the
    /// caller can resume them (a block job that libvirt still runs). Returns
    /// each one's handle and the params it was started with.
    func adopt(kinds: Set<String>) throws -> [(handle: OperationHandle, params: String)] {
        let rows = try database.query(
            "SELECT id, kind, owner, params, started_at, total FROM operations WHERE state = ?",
            [.integer(Int64(Virthost_V1_OperationState.running.rawValue))])
            .filter { kinds.contains($0["kind"]?.string ?? "") && StateDatabase.isOwnerGone($0["owner"]?.string ?? "") }
        return try rows.compactMap { row in
            guard let id = row["id"]?.string else { return nil }
            try database.execute("UPDATE operations SET owner = ? WHERE id = ?", [.text(StateDatabase.owner), .text(id)])
            let handle = OperationHandle(
                id: id, ledger: self, started: row["started_at"]?.double ?? 0, total: UInt64(max(0, row["total"]?.int ?? 0)))
            live.withLock { $0[id] = handle }
            return (handle, row["params"]?.string ?? "")
        }
    }

    /// One operation as recorded (live progress included).
    func operation(_ id: String) throws -> Virthost_V1_Operation {
        guard !id.isEmpty, id.utf8.count <= 64 else { throw Refusal.invalid("operation id is empty or too long") }
        guard let row = try database.query("SELECT * FROM operations WHERE id = ?", [.text(id)]).first else {
            throw Refusal(.notFound, "no operation '\(id)'")
        }
        return Self.message(row)
    }

    /// Operations newest first, filtered, paged by a (start time, id) cursor.
    func list(_ request: Virthost_V1_ListOperationsRequest) throws -> Virthost_V1_ListOperationsResponse {
        let pageSize = request.pageSize == 0 ? 100 : Int(request.pageSize)
        guard pageSize <= 1000 else { throw Refusal.invalid("page_size \(request.pageSize) is over 1000") }
        var conditions: [String] = []
        var bindings: [StateDatabase.Value] = []
        if !request.states.isEmpty {
            conditions.append("state IN (\(request.states.map { _ in "?" }.joined(separator: ", ")))")
            bindings += request.states.map { .integer(Int64($0.rawValue)) }
        }
        for (column, value) in [("kind", request.kind), ("object", request.object), ("request_id", request.requestID)] where !value.isEmpty {
            conditions.append("\(column) = ?")
            bindings.append(.text(value))
        }
        if !request.pageToken.isEmpty {
            guard let data = Data(base64Encoded: request.pageToken), let text = String(data: data, encoding: .utf8),
                  let bar = text.firstIndex(of: "|"), let started = Double(text[..<bar]) else {
                throw Refusal.invalid("page_token is not one this agent gave out")
            }
            conditions.append("(started_at < ? OR (started_at = ? AND id < ?))")
            bindings += [.real(started), .real(started), .text(String(text[text.index(after: bar)...]))]
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let rows = try database.query(
            "SELECT * FROM operations \(filter) ORDER BY started_at DESC, id DESC LIMIT \(pageSize + 1)", bindings)
        var response = Virthost_V1_ListOperationsResponse()
        response.operations = rows.prefix(pageSize).map(Self.message)
        if rows.count > pageSize, let last = rows.prefix(pageSize).last {
            let cursor = "\(last["started_at"]?.double ?? 0)|\(last["id"]?.string ?? "")"
            response.nextPageToken = Data(cursor.utf8).base64EncodedString()
        }
        return response
    }

    /// Waits until the operation ends or the caller's deadline passes, then
    /// answers it as it is.
    func wait(_ id: String) async throws -> Virthost_V1_Operation {
        _ = try operation(id)
        if let handle = live.withLock({ $0[id] }) {
            // Until a little before the call's deadline: time to answer.
            let remaining = CallDeadline.remaining
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await handle.waitFinished() }
                if let remaining {
                    group.addTask { try? await Task.sleep(for: DeviceRemoval.budget(deadline: remaining)) }
                }
                await group.next()
                group.cancelAll()
            }
        }
        return try operation(id)
    }

    /// Cancels a running, cancellable operation.
    func cancel(_ id: String) throws -> Virthost_V1_Operation {
        let current = try operation(id)
        guard current.state == .running else {
            throw Refusal(.failedPrecondition, "operation \(id) has ended (\(Self.stateName(current.state))); nothing to cancel")
        }
        guard current.cancellable, let handle = live.withLock({ $0[id] }) else {
            throw Refusal(
                .failedPrecondition,
                "operation \(id) (\(current.kind)) cannot be stopped once started: libvirt offers no way to; wait for it (WaitOperation)")
        }
        handle.cancel()
        return try operation(id)
    }

    /// At start: operations that were running when the agent stopped become
    /// interrupted. Returns the volumes they had created (pool, volume), for
    /// the caller to remove once libvirt answers (see ``noteCleanup``).
    public func markInterrupted() throws -> [(operation: String, pool: String, volume: String)] {
        let rows = try database.query("SELECT id, created_volume, owner FROM operations WHERE state = ?",
                                      [.integer(Int64(Virthost_V1_OperationState.running.rawValue))])
            .filter { StateDatabase.isOwnerGone($0["owner"]?.string ?? "") }
        for row in rows {
            try database.execute(
                "UPDATE operations SET state = ?, ended_at = ?, status_code = ?, status_message = ? WHERE id = ?",
                [.integer(Int64(Virthost_V1_OperationState.interrupted.rawValue)), .real(Date().timeIntervalSince1970),
                 .integer(Int64(RPCError.Code.aborted.rawValue)), .text("the agent stopped while it ran"), row["id"] ?? .null])
        }
        return rows.compactMap { row in
            guard let id = row["id"]?.string, let created = row["created_volume"]?.string, let slash = created.firstIndex(of: "/")
            else { return nil }
            return (id, String(created[..<slash]), String(created[created.index(after: slash)...]))
        }
    }

    /// Records what was cleaned up after an operation ended.
    func noteCleanup(_ id: String, _ text: String) {
        try? database.execute("UPDATE operations SET cleanup = ?, created_volume = '' WHERE id = ?", [.text(text), .text(id)])
    }

    // MARK: From the handles

    func recordProgress(_ id: String, done: UInt64, total: UInt64) {
        try? database.execute("UPDATE operations SET done = ?, total = ? WHERE id = ?",
                              [.integer(Int64(done)), .integer(Int64(total)), .text(id)])
        announce(id, type: "operation-progress")
    }

    func recordCreatedVolume(_ id: String, pool: String, volume: String) {
        try? database.execute("UPDATE operations SET created_volume = ? WHERE id = ?", [.text("\(pool)/\(volume)"), .text(id)])
    }

    func recordEnd(_ id: String, state: Virthost_V1_OperationState, done: UInt64, total: UInt64, code: RPCError.Code?, message: String) {
        try? database.execute(
            """
            UPDATE operations SET state = ?, done = ?, total = ?, ended_at = ?, status_code = ?, status_message = ?,
            created_volume = CASE WHEN ? THEN '' ELSE created_volume END WHERE id = ?
            """,
            [.integer(Int64(state.rawValue)), .integer(Int64(done)), .integer(Int64(total)), .real(Date().timeIntervalSince1970),
             .integer(Int64(code?.rawValue ?? 0)), .text(message), .integer(state == .succeeded ? 1 : 0), .text(id)])
        _ = live.withLock { $0.removeValue(forKey: id) }
        announce(id, type: "operation-finished")
    }

    private func announce(_ id: String, type: String) {
        guard let operation = try? operation(id) else { return }
        events.publish(kind: .operation, type: type, name: id, detail: "\(operation.kind) \(operation.object)", operation: operation)
    }

    // MARK: Rows

    static func message(_ row: StateDatabase.Row) -> Virthost_V1_Operation {
        var operation = Virthost_V1_Operation()
        operation.id = row["id"]?.string ?? ""
        operation.kind = row["kind"]?.string ?? ""
        operation.object = row["object"]?.string ?? ""
        operation.uid = UInt32(truncatingIfNeeded: row["uid"]?.int ?? 0)
        operation.pid = Int32(truncatingIfNeeded: row["pid"]?.int ?? 0)
        operation.state = Virthost_V1_OperationState(rawValue: Int(row["state"]?.int ?? 0)) ?? .unspecified
        operation.done = UInt64(max(0, row["done"]?.int ?? 0))
        operation.total = UInt64(max(0, row["total"]?.int ?? 0))
        operation.unit = row["unit"]?.string ?? ""
        let started = row["started_at"]?.double ?? 0
        operation.startedAt = Google_Protobuf_Timestamp(timeIntervalSince1970: started)
        let ended = row["ended_at"]?.double
        if let ended { operation.endedAt = Google_Protobuf_Timestamp(timeIntervalSince1970: ended) }
        let elapsed = (ended ?? Date().timeIntervalSince1970) - started
        operation.rate = elapsed > 0 ? Double(operation.done) / elapsed : 0
        operation.statusCode = Int32(truncatingIfNeeded: row["status_code"]?.int ?? 0)
        operation.statusMessage = row["status_message"]?.string ?? ""
        operation.cancellable = row["cancellable"]?.int == 1
        operation.cleanup = row["cleanup"]?.string ?? ""
        operation.requestID = row["request_id"]?.string ?? ""
        return operation
    }

    static func stateName(_ state: Virthost_V1_OperationState) -> String {
        switch state {
        case .running: "running"
        case .succeeded: "succeeded"
        case .failed: "failed"
        case .cancelled: "cancelled"
        case .interrupted: "interrupted"
        default: "unknown"
        }
    }
}

/// One running operation, as the code doing the work sees it.
final class OperationHandle: Sendable {
    let id: String
    private let ledger: OperationLedger
    private let startedAt: Double

    private struct State {
        var done: UInt64 = 0
        var total: UInt64
        var lastWrite: Double = 0
        var cancelled = false
        var onCancel: [@Sendable () -> Void] = []
        var finished = false
        var waiters: [UUID: CheckedContinuation<Void, any Error>] = [:]
    }
    private let state: Mutex<State>

    /// Progress is written (and announced) at most this often.
    static let progressInterval = 0.5

    init(id: String, ledger: OperationLedger, started: Double, total: UInt64) {
        self.id = id
        self.ledger = ledger
        startedAt = started
        state = Mutex(State(total: total))
    }

    /// Whether a client cancelled the operation.
    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Notes progress; written to the ledger at most twice a second.
    func progress(done: UInt64, total: UInt64? = nil) {
        let now = Date().timeIntervalSince1970
        let write: (UInt64, UInt64)? = state.withLock { state in
            state.done = done
            if let total { state.total = total }
            guard now - state.lastWrite >= Self.progressInterval else { return nil }
            state.lastWrite = now
            return (state.done, state.total)
        }
        if let (done, total) = write { ledger.recordProgress(id, done: done, total: total) }
    }

    /// Remembers a volume the operation created, so that an interrupted
    /// operation's volume is removed at the next start.
    func createdVolume(pool: String, name: String) {
        ledger.recordCreatedVolume(id, pool: pool, volume: name)
    }

    /// Runs `body` when the operation is cancelled (at once if it is already).
    func onCancel(_ body: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.cancelled { return true }
            state.onCancel.append(body)
            return false
        }
        if now { body() }
    }

    func cancel() {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.cancelled, !state.finished else { return [] }
            state.cancelled = true
            defer { state.onCancel = [] }
            return state.onCancel
        }
        for handler in handlers { handler() }
    }

    /// Records the end: succeeded when `error` is nil, cancelled when a
    /// client cancelled it, failed otherwise. `cleanup` says what was removed.
    func finish(_ error: (any Error)?, cleanup: String = "") {
        let (done, total, cancelled, waiters) = state.withLock { state in
            state.finished = true
            defer { state.waiters = [:] }
            return (state.done, state.total, state.cancelled, Array(state.waiters.values))
        }
        if !cleanup.isEmpty { ledger.noteCleanup(id, cleanup) }
        if let error {
            let rpc = (error as? RPCError) ?? (error as? any RPCErrorConvertible).map { RPCError($0) }
                ?? RPCError(code: cancelled ? .cancelled : .unknown, message: "\(error)")
            ledger.recordEnd(id, state: cancelled ? .cancelled : .failed, done: done, total: total,
                             code: cancelled ? .cancelled : rpc.code, message: cancelled ? "cancelled by a client" : rpc.message)
        } else {
            ledger.recordEnd(id, state: .succeeded, done: total > 0 ? max(done, total) : done, total: total, code: nil, message: "")
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when the operation has ended; throws CancellationError when
    /// the waiting task is cancelled first (e.g. by its deadline).
    func waitFinished() async throws {
        let key = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let ended = state.withLock { state -> Bool in
                    if state.finished { return true }
                    if Task.isCancelled { return true }
                    state.waiters[key] = continuation
                    return false
                }
                if ended { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: key) }
            waiter?.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }
}
