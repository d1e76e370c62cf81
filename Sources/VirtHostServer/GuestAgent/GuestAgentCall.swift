import Foundation
import GRPCCore
import GRPCProtobuf
import Libvirt
import SwiftProtobuf
import Synchronization
import VirtHostAPI

/// How long one guest-agent call may wait, from the caller's gRPC deadline,
/// an explicit timeout, or one of libvirt's modes.
struct GuestAgentWait: Sendable, Equatable {
    /// What libvirt is told.
    var libvirt: Domain.AgentTimeout
    /// The mode, as reported back to the caller.
    var mode: Virthost_V1_AgentTimeoutMode
    /// When the caller's own limit (deadline or explicit timeout) runs out.
    var until: ContinuousClock.Instant?
    /// That limit in seconds, to tell a timeout from an agent that is gone.
    var limit: Duration?

    /// The longest explicit timeout accepted, in seconds (a day).
    static let maxTimeoutSeconds: UInt32 = 86_400

    /// libvirt's whole seconds for a limit: rounded up, at least 1.
    static func libvirtSeconds(_ limit: Duration) -> Int32 {
        let (seconds, attoseconds) = limit.components
        let whole = seconds + (attoseconds > 0 ? 1 : 0)
        return Int32(clamping: max(1, whole))
    }

    /// The wait for a call: the shorter of what is left of the call's
    /// deadline (``CallDeadline``) and an explicit timeout in deadline mode;
    /// libvirt's own modes otherwise.
    static func resolve(
        timeoutSeconds: UInt32, mode: Virthost_V1_AgentTimeoutMode = .deadline,
        deadline: Duration? = CallDeadline.remaining, now: ContinuousClock.Instant = .now
    ) throws -> GuestAgentWait {
        guard timeoutSeconds <= maxTimeoutSeconds else {
            throw Refusal.invalid("timeout_seconds \(timeoutSeconds) is over the limit of \(maxTimeoutSeconds) (a day)")
        }
        switch mode {
        case .deadline:
            var limit = deadline
            if timeoutSeconds > 0 {
                let explicit = Duration.seconds(Int64(timeoutSeconds))
                limit = limit.map { min($0, explicit) } ?? explicit
            }
            guard let limit else { return GuestAgentWait(libvirt: .default, mode: .default, until: nil, limit: nil) }
            return GuestAgentWait(libvirt: .seconds(libvirtSeconds(limit)), mode: .deadline, until: now + limit, limit: limit)
        case .block:
            return GuestAgentWait(libvirt: .block, mode: .block, until: deadline.map { now + $0 }, limit: nil)
        case .default:
            return GuestAgentWait(libvirt: .default, mode: .default, until: deadline.map { now + $0 }, limit: nil)
        case .nowait:
            return GuestAgentWait(libvirt: .noWait, mode: .nowait, until: deadline.map { now + $0 }, limit: nil)
        case .UNRECOGNIZED(let value):
            throw Refusal.invalid("timeout_mode \(value) is not one of DEADLINE, BLOCK, DEFAULT, NOWAIT")
        }
    }

    /// The same limit for a later command of one call (exec's polls): what
    /// is left of it, or libvirt's default without one.
    func remaining(now: ContinuousClock.Instant = .now) -> GuestAgentWait {
        guard let until, mode == .deadline else { return self }
        let left = until - now
        return GuestAgentWait(libvirt: .seconds(Self.libvirtSeconds(max(left, .milliseconds(1)))), mode: mode, until: until, limit: limit)
    }

    /// The whole seconds libvirt was given, for replies; 0 for the modes.
    var seconds: UInt32 {
        if case .seconds(let s) = libvirt { return UInt32(max(s, 0)) }
        return 0
    }
}

/// Turns libvirt's guest-agent failures into the gRPC errors callers can act on.
enum GuestAgentErrors {
    /// The ErrorInfo domain of errors the guest agent itself replied with.
    static let agentErrorDomain = "qemu-guest-agent"

    /// Whether a libvirt error is about the agent (and so mapped here).
    static func isAgentError(_ error: LibvirtError) -> Bool {
        error.code == .agentUnresponsive || error.code == .agentUnsynced || agentReply(error.message) != nil
    }

    /// The gRPC error for a failed agent command.
    ///
    /// - VIR_ERR_AGENT_UNRESPONSIVE with "not connected": UNAVAILABLE (qemu-ga
    ///   is not running; libvirt says so at once).
    /// - VIR_ERR_AGENT_UNRESPONSIVE after the caller's limit has run out:
    ///   DEADLINE_EXCEEDED. libvirt uses the same code and message ("Guest
    ///   agent not available for now") for a command that timed out and for
    ///   its re-synchronisation with an agent that stopped answering (which
    ///   takes 5 s whatever the timeout), so the elapsed time decides.
    /// - An error reply of the agent: UNIMPLEMENTED for an unknown command,
    ///   FAILED_PRECONDITION otherwise, with class and description.
    static func rpcError(_ error: LibvirtError, elapsed: Duration, wait: GuestAgentWait) -> RPCError {
        if let reply = agentReply(error.message) {
            return agentReplyError(error, reply)
        }
        guard error.code == .agentUnresponsive else { return ErrorMapping.rpcError(error) }
        if error.message.contains("not connected") {
            return rpcError(error, code: .unavailable, message: error.message)
        }
        if let limit = wait.limit, elapsed + .milliseconds(50) >= limit {
            let shown = String(format: "%.1f", Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18)
            return rpcError(
                error, code: .deadlineExceeded,
                message: "guest agent did not answer within \(shown) s (libvirt waited \(wait.seconds) s): \(error.message)")
        }
        if wait.mode == .nowait {
            return rpcError(
                error, code: .unavailable,
                message: "\(error.message) (libvirt 9.0 answers so at once in NOWAIT mode, and the command did not reach the guest in tests here; use a timeout)")
        }
        return rpcError(error, code: .unavailable, message: error.message)
    }

    /// What the agent replied: the command, its description, and the class
    /// restored from qemu-ga's dispatcher messages.
    struct Reply: Equatable {
        var command: String
        var desc: String
        var errorClass: String
    }

    /// Reads libvirt's "unable to execute QEMU agent command 'NAME': DESC".
    static func agentReply(_ message: String) -> Reply? {
        let marker = "unable to execute QEMU agent command '"
        guard let start = message.range(of: marker) else { return nil }
        let rest = message[start.upperBound...]
        guard let quote = rest.firstIndex(of: "'") else { return nil }
        let command = String(rest[..<quote])
        var desc = String(rest[rest.index(after: quote)...])
        if desc.hasPrefix(": ") { desc.removeFirst(2) }
        return Reply(command: command, desc: desc, errorClass: errorClass(forDesc: desc, command: command))
    }

    /// qemu-ga 7.2 sends CommandNotFound for unknown and disabled commands
    /// (qapi/qmp-dispatch.c) and GenericError for everything else.
    static func errorClass(forDesc desc: String, command: String) -> String {
        if desc.hasPrefix("The command \(command) has not been found") || desc.hasPrefix("Command \(command) has been disabled") {
            return "CommandNotFound"
        }
        return "GenericError"
    }

    static func agentReplyError(_ error: LibvirtError, _ reply: Reply) -> RPCError {
        let code: RPCError.Code = reply.desc.hasPrefix("The command \(reply.command) has not been found") ? .unimplemented : .failedPrecondition
        var detail = Virthost_V1_AgentErrorDetail()
        detail.command = reply.command
        detail.errorClass = reply.errorClass
        detail.desc = reply.desc
        var extra: [ErrorDetails] = [
            .errorInfo(
                reason: reply.errorClass, domain: agentErrorDomain,
                metadata: ["command": reply.command, "class": reply.errorClass, "desc": reply.desc])
        ]
        if let any = try? Google_Protobuf_Any(message: detail) { extra.append(.any(any)) }
        return rpcError(
            error, code: code,
            message: "guest agent error \(reply.errorClass) from '\(reply.command)': \(reply.desc)", extra: extra)
    }

    /// A libvirt error with a chosen gRPC code, carrying libvirt's details
    /// as ErrorMapping does.
    static func rpcError(_ error: LibvirtError, code: RPCError.Code, message: String, extra: [ErrorDetails] = []) -> RPCError {
        ErrorMapping.rpcError(error, code: code, message: message, leading: extra)
    }
}

/// At most one agent command per machine, and at most `limit` in all, hold
/// a libvirt thread at a time.
///
/// libvirt runs one agent command per machine at a time anyway (the others
/// wait for its agent job), and a stopped agent makes every command wait 5 s:
/// without this gate a few calls to one stuck guest would take every libvirt
/// thread and stall the agent's other services. Waiting here is async and
/// ends at the caller's deadline.
typealias GuestAgentGate = KeyedGate

extension KeyedGate {
    convenience init(limit: Int) {
        self.init(perKey: 1, total: limit, what: "another guest-agent call on the same machine")
    }
}

/// Sends agent commands for the services: policy, gate, libvirt, error mapping.
struct GuestAgentChannel: Sendable {
    let hypervisor: HypervisorConnection
    let policy: GuestAgentPolicy
    let gate: GuestAgentGate

    /// The result of one command: the reply and how long libvirt took.
    struct Answer: Sendable {
        var reply: String
        var elapsed: Duration
    }

    /// A failed agent command and how long libvirt took to fail it.
    struct Failure: Error {
        var error: LibvirtError
        var elapsed: Duration
    }

    /// Sends one command (already validated) and returns the agent's reply.
    /// The policy check is the caller's: it knows what the command is for.
    func send(_ ref: ObjectRef, json: String, wait: GuestAgentWait) async throws -> Answer {
        let key = ref.describe("domain")
        return try await gate.run(key: key, until: wait.until) {
            // Agent failures come back as values, so the elapsed time measured
            // on the libvirt thread reaches the mapping; other libvirt errors
            // (no such domain, connection lost) take the usual path. The call
            // runs in a task of its own: a cancelled caller must not free the
            // machine's gate while libvirt still works on its command.
            let hypervisor = self.hypervisor
            let outcome: Result<Answer, Failure> = try await Task {
                try await hypervisor.run { connection in
                    let domain = try connection.domain(ref)
                    let started = ContinuousClock.now
                    do {
                        let reply = try domain.agentCommand(json, timeout: wait.libvirt)
                        return .success(Answer(reply: reply, elapsed: .now - started))
                    } catch let error as LibvirtError where GuestAgentErrors.isAgentError(error) {
                        return .failure(Failure(error: error, elapsed: .now - started))
                    }
                }
            }.value
            switch outcome {
            case .success(let answer): return answer
            case .failure(let failure):
                throw GuestAgentErrors.rpcError(failure.error, elapsed: failure.elapsed, wait: wait)
            }
        }
    }

    /// Sends a command built from a JSON object and returns its `return` member.
    func call(
        _ ref: ObjectRef, execute: String, arguments: [String: any Sendable]? = nil, wait: GuestAgentWait,
        purpose: String? = nil
    ) async throws -> (value: Any?, elapsed: Duration) {
        try policy.check(execute, for: purpose)
        var object: [String: Any] = ["execute": execute]
        if let arguments { object["arguments"] = arguments }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        let answer = try await send(ref, json: String(decoding: data, as: UTF8.self), wait: wait)
        let reply = try GuestAgentJSON.object(answer.reply, command: execute)
        return (reply["return"], answer.elapsed)
    }
}

/// Reading the agent's JSON replies.
enum GuestAgentJSON {
    /// The reply as a JSON object.
    static func object(_ reply: String, command: String) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any] else {
            throw Refusal(.internalError, "the guest agent's reply to \(command) is not a JSON object: \(reply.prefix(200))")
        }
        return object
    }

    /// A reply of the wrong shape: the guest agent is not what we expect.
    static func unexpected(_ command: String, _ what: String) -> Refusal {
        Refusal(.internalError, "the guest agent's reply to \(command) has no \(what)")
    }
}
