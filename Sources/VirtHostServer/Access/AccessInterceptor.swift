import Foundation
import GRPCCore
import Logging
import NIOCore
import NIOPosix
import SwiftProtobuf
import Synchronization

/// Authorizes every call by the caller's role, enforces the call limits and
/// the default deadline, and writes an audit line for every call that
/// changes something.
struct AccessInterceptor: ServerInterceptor {
    let policy: AccessPolicy
    /// The highest role this socket grants (reader on the read-only socket).
    let socketCap: Role
    let gate: CallGate
    let defaultDeadline: Duration?
    let audit: Logger
    /// Request ids, run inside the call's deadline and role checks.
    var idempotency: IdempotencyInterceptor?

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let service = context.descriptor.service.fullyQualifiedService
        let method = context.descriptor.method
        guard let peer = PeerIdentity(metadata: request.metadata) else {
            throw Refusal(.permissionDenied, "the caller's identity is unknown (no SO_PEERCRED); refused")
        }
        let needed = MethodRoles.requirement(service: service, method: method)
        let role = min(policy.role(uid: peer.uid, groups: peer.groups), socketCap)
        let started = ContinuousClock.now
        let object = AuditObject()
        // Every call that changes something, and every refusal by role or
        // confinement (reads included), gets an audit line.
        let record: @Sendable (String) -> Void = { [audit] outcome in
            guard needed.changes || outcome.hasPrefix("permissionDenied") else { return }
            audit.notice(
                "audit",
                metadata: [
                    "uid": "\(peer.uid)", "pid": "\(peer.pid)", "method": "\(service)/\(method)",
                    "object": "\(object.name)", "outcome": "\(outcome)", "duration": "\(ContinuousClock.now - started)",
                ])
        }
        guard role >= needed.role else {
            let where_ = socketCap < .admin ? " on this read-only socket" : ""
            let remedy = socketCap < needed.role
                ? "use the main socket"
                : "ask an admin to add uid \(peer.uid) (or one of its groups) to \(needed.role)_uids (or \(needed.role)_groups) in virthostd.toml"
            let refusal = Refusal(.permissionDenied, "\(service.split(separator: ".").last ?? "")/\(method) needs the \(needed.role) role; "
                    + "uid \(peer.uid) has \(role)\(where_): \(remedy)")
            record(Self.outcome(of: refusal))
            throw refusal
        }
        if let refusal = gate.enter(connection: peer.connection) {
            throw RPCError(code: .resourceExhausted, message: refusal)
        }
        // Note the object the first request message names, as it passes to
        // the handler, for the audit line of a change or a refusal (not for
        // reader calls: the hot path, whose refusals come before this).
        var audited = request
        if needed.changes || needed.role >= .operator {
            audited.messages = RPCAsyncSequence(wrapping: request.messages.map { message in
                object.note(message)
                return message
            })
        }
        let call = audited
        // The call's one deadline: the client's (the transports pass it
        // under PeerIdentity.timeoutKey, so that grpc-swift does not keep a
        // Task.sleep per call for it), else the agent's default one.
        let deadline = request.metadata[stringValues: PeerIdentity.timeoutKey].first(where: { _ in true })
            .flatMap(CallDeadline.parseTimeout).map { CallDeadline(limit: $0, fromClient: true) }
            ?? defaultDeadline.map { CallDeadline(limit: $0, fromClient: false) }
        // Who the handler serves: the role and what an operator may reach.
        let caller = CallerAccess(
            role: role, confinement: policy.confinement, uid: peer.uid, pid: peer.pid,
            requestID: request.metadata[stringValues: RequestLedger.metadataKey].first(where: { _ in true }),
            async: request.metadata[stringValues: "virthost-async"].contains { $0 == "1" || $0 == "true" })
        var response: StreamingServerResponse<Output>
        do {
            response = try await CallerAccess.$current.withValue(caller) { try await CallDeadline.$current.withValue(deadline) {
                try await withoutActuallyEscaping(next) { next in
                    let handle: @Sendable () async throws -> StreamingServerResponse<Output> = { [idempotency] in
                        guard let idempotency else { return try await next(call, context) }
                        return try await idempotency.intercept(request: call, context: context, next: next)
                    }
                    guard let deadline else { return try await handle() }
                    return try await Self.withDeadline(deadline.limit, what: deadline.description, handle)
                }
            } }
        } catch {
            gate.leave(connection: peer.connection)
            record(Self.outcome(of: error))
            throw error
        }
        switch response.accepted {
        case .success(var contents):
            if let operation = caller.note.operationID { contents.metadata.addString(operation, forKey: "virthost-operation-id") }
            // The body of a streaming response runs after this returns: count
            // the call until it ends.
            let producer = contents.producer
            contents.producer = { [gate] writer in
                do {
                    // A streaming body runs after `next` returned: bind the deadline again.
                    let trailers = try await CallerAccess.$current.withValue(caller) {
                        try await CallDeadline.$current.withValue(deadline) { try await producer(writer) }
                    }
                    gate.leave(connection: peer.connection)
                    record("OK")
                    return trailers
                } catch {
                    gate.leave(connection: peer.connection)
                    record(Self.outcome(of: error))
                    throw error
                }
            }
            response.accepted = .success(contents)
        case .failure(let error):
            gate.leave(connection: peer.connection)
            record(Self.outcome(of: error))
        }
        return response
    }

    static func outcome(of error: any Error) -> String {
        if let convertible = error as? any RPCErrorConvertible { return "\(convertible.rpcErrorCode): \(convertible.rpcErrorMessage)" }
        return "\(error)"
    }

    /// Runs `body`, failing with DEADLINE_EXCEEDED when it takes longer than
    /// `limit`. A blocking libvirt call cannot be interrupted: cancellation
    /// frees the caller at once (see BlockingExecutor.run), the call finishes
    /// on its thread and its result is dropped.
    ///
    /// `body` runs as the one child of a task group, so that the deadline
    /// cancels it and not the call's own task (which still has to write the
    /// status); the timer is ``DeadlineSweeper``'s: no NIO scheduled task or
    /// `Task.sleep` per call (both cost wake-ups or memory, BENCHMARKS.md).
    static func withDeadline<T: Sendable>(
        _ limit: Duration, what: String? = nil, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let canceller = TaskCanceller()
        let registration = DeadlineSweeper.shared.register(deadline: .now + limit) { canceller.cancel() }
        defer { DeadlineSweeper.shared.cancel(registration) }
        do {
            return try await withThrowingTaskGroup(of: T.self) { group in
                group.addTask { try await canceller.running(body) }
                return try await group.next()!
            }
        } catch {
            if canceller.hasFired {
                throw RPCError(
                    code: .deadlineExceeded, message: "the call took longer than \(what ?? "the agent's default deadline of \(limit)")")
            }
            throw error
        }
    }
}

/// The object a call is about, for the audit line: the names in the first
/// request message (e.g. "web-1", or "images/disk.qcow2" for a pool and volume).
final class AuditObject: Sendable {
    private let noted = Mutex<String?>(nil)

    var name: String { noted.withLock { $0 ?? "-" } }

    func note(_ message: Any) {
        guard noted.withLock({ $0 == nil }), let message = message as? any SwiftProtobuf.Message,
            let json = try? message.jsonString(), let data = json.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data)
        else { return }
        var names: [String] = []
        Self.collect(object, into: &names)
        let text = names.isEmpty ? "-" : names.prefix(3).joined(separator: "/")
        noted.withLock { if $0 == nil { $0 = String(text.prefix(200)) } }
    }

    /// String values of keys that name things, depth first, in field order.
    private static func collect(_ value: Any, into names: inout [String]) {
        guard let dictionary = value as? [String: Any] else { return }
        for key in ["pool", "domain", "network", "name", "volume", "bridge", "interface", "target", "mac"] {
            switch dictionary[key] {
            case let text as String: names.append(text)
            case let nested as [String: Any]: collect(nested, into: &names)
            default: continue
            }
        }
        // Upload headers and typed specs hold the names one level down.
        for key in ["header", "spec"] {
            if let nested = dictionary[key] { collect(nested, into: &names) }
        }
    }
}
