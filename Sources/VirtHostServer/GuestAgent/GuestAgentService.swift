import Foundation
import GRPCCore
import Libvirt
import VirtHostAPI

/// GuestAgentService: the qemu-guest-agent inside a running machine, as raw
/// JSON commands (like `virsh qemu-agent-command`) or typed calls.
///
/// Every call, raw or typed, passes the same steps: input checks, the
/// command policy, a per-machine gate, then libvirt's
/// `virDomainQemuAgentCommand` with a timeout taken from the call's
/// deadline (``CallDeadline``). (libvirt marks a machine "tainted:
/// custom-ga-command" in its log the first time; typed calls go this way too
/// so that deadlines, policy and errors behave the same in all of them.)
struct GuestAgentService: Virthost_V1_GuestAgentService.SimpleServiceProtocol {
    let channel: GuestAgentChannel

    init(hypervisor: HypervisorConnection, policy: GuestAgentPolicy, concurrentCalls: Int) {
        channel = GuestAgentChannel(hypervisor: hypervisor, policy: policy, gate: GuestAgentGate(limit: concurrentCalls))
    }

    // MARK: Raw commands

    func command(
        request: Virthost_V1_AgentCommandRequest, context: ServerContext
    ) async throws -> Virthost_V1_AgentCommandResponse {
        let ref = try ObjectRef(request.domain)
        let command: GuestAgentCommandValidator.Command
        do {
            command = try GuestAgentCommandValidator.validate(request.command)
        } catch {
            throw RPCError(error)
        }
        let wait = try GuestAgentWait.resolve(timeoutSeconds: request.timeoutSeconds, mode: request.timeoutMode)
        try channel.policy.check(command.execute)
        let answer = try await channel.send(ref, json: request.command, wait: wait)
        var response = Virthost_V1_AgentCommandResponse()
        response.reply = answer.reply
        response.timeoutSeconds = wait.seconds
        response.timeoutMode = wait.mode
        return response
    }

    // MARK: Typed calls

    /// Checks a typed request and sends one command.
    private func typed<Result: Sendable>(
        _ request: Virthost_V1_AgentRequest, _ execute: String,
        arguments: [String: any Sendable]? = nil,
        _ convert: (Any?, Duration) throws -> Result
    ) async throws -> Result {
        let ref = try ObjectRef(request.domain)
        let wait = try GuestAgentWait.resolve(timeoutSeconds: request.timeoutSeconds)
        let (value, elapsed) = try await channel.call(ref, execute: execute, arguments: arguments, wait: wait)
        return try convert(value, elapsed)
    }

    func ping(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_AgentPingResponse {
        try await typed(request, "guest-ping") { _, elapsed in
            let (seconds, attoseconds) = elapsed.components
            return .with { $0.latencyUs = UInt64(max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)) }
        }
    }

    func getInfo(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_AgentInfo {
        try await typed(request, "guest-info") { value, _ in try GuestAgentReplies.info(value) }
    }

    func getOSInfo(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_GuestOSInfo {
        try await typed(request, "guest-get-osinfo") { value, _ in try GuestAgentReplies.osInfo(value) }
    }

    func getHostName(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_GuestHostName {
        try await typed(request, "guest-get-host-name") { value, _ in try GuestAgentReplies.hostName(value) }
    }

    func getInterfaces(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_GuestInterfaces {
        try await typed(request, "guest-network-get-interfaces") { value, _ in try GuestAgentReplies.interfaces(value) }
    }

    func getFilesystems(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_GuestFilesystems {
        try await typed(request, "guest-get-fsinfo") { value, _ in try GuestAgentReplies.filesystems(value) }
    }

    func getUsers(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_GuestUsers {
        try await typed(request, "guest-get-users") { value, _ in try GuestAgentReplies.users(value) }
    }

    func getTime(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_GuestTime {
        try await typed(request, "guest-get-time") { value, _ in try GuestAgentReplies.time(value) }
    }

    // MARK: File systems

    func freezeFilesystems(request: Virthost_V1_FreezeRequest, context: ServerContext) async throws -> Virthost_V1_FreezeResponse {
        let ref = try ObjectRef(request.domain)
        try GuestAgentInput.mountpoints(request.mountpoints)
        let wait = try GuestAgentWait.resolve(timeoutSeconds: request.timeoutSeconds)
        let (execute, arguments): (String, [String: any Sendable]?) =
            request.mountpoints.isEmpty
            ? ("guest-fsfreeze-freeze", nil) : ("guest-fsfreeze-freeze-list", ["mountpoints": request.mountpoints])
        let (value, _) = try await channel.call(ref, execute: execute, arguments: arguments, wait: wait)
        return .with { $0.count = (try? GuestAgentReplies.count(value, execute)) ?? 0 }
    }

    func thawFilesystems(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_FreezeResponse {
        try await typed(request, "guest-fsfreeze-thaw") { value, _ in
            .with { $0.count = (try? GuestAgentReplies.count(value, "guest-fsfreeze-thaw")) ?? 0 }
        }
    }

    func getFreezeStatus(request: Virthost_V1_AgentRequest, context: ServerContext) async throws -> Virthost_V1_FreezeStatus {
        try await typed(request, "guest-fsfreeze-status") { value, _ in try GuestAgentReplies.freezeStatus(value) }
    }

    // MARK: Exec

    func exec(request: Virthost_V1_ExecRequest, context: ServerContext) async throws -> Virthost_V1_ExecResponse {
        let run = try GuestExec(request, channel: channel)
        var response = try await run.run(context: context, started: { _ in }, output: { _, _ in })
        // Keep the reply under gRPC's default 4 MiB message limit.
        for (data, flag) in [(\Virthost_V1_ExecResponse.stdout, \Virthost_V1_ExecResponse.stdoutTruncated),
                             (\Virthost_V1_ExecResponse.stderr, \Virthost_V1_ExecResponse.stderrTruncated)]
        where response[keyPath: data].count > GuestExec.unaryOutputLimit {
            response[keyPath: data] = response[keyPath: data].prefix(GuestExec.unaryOutputLimit)
            response[keyPath: flag] = true
        }
        return response
    }

    func execStream(
        request: Virthost_V1_ExecRequest, response writer: RPCWriter<Virthost_V1_ExecStreamResponse>, context: ServerContext
    ) async throws {
        let run = try GuestExec(request, channel: channel)
        var exit = try await run.run(
            context: context,
            started: { pid in
                try await writer.write(.with { $0.started = .with { $0.pid = pid } })
            },
            output: { stdout, stderr in
                for chunk in GuestExec.chunks(stdout) { try await writer.write(.with { $0.stdout = chunk }) }
                for chunk in GuestExec.chunks(stderr) { try await writer.write(.with { $0.stderr = chunk }) }
            })
        exit.stdout = Data()
        exit.stderr = Data()
        try await writer.write(.with { $0.exit = exit })
    }
}

/// One guest-exec: start the program, poll guest-exec-status until it exits
/// or the wait ends.
struct GuestExec: Sendable {
    /// Output kept per stream in a unary Exec reply.
    static let unaryOutputLimit = 1_536 * 1024
    /// Largest chunk ExecStream sends.
    static let chunkSize = 256 * 1024
    /// Largest stdin. guest-exec carries it base64 in one command, and on
    /// this machine commands of ~230 KB and more (170 KB of random stdin)
    /// reached qemu-ga 7.2 damaged or not at all ("JSON parse error", or no
    /// reply) now and then, while 150 KB and less always arrived; 64 KiB
    /// keeps well clear of that.
    static let maxStdin = 64 << 10

    let ref: ObjectRef
    let arguments: [String: any Sendable]
    let wait: GuestAgentWait
    /// When to stop waiting for the exit and answer exited = false.
    let answerBy: ContinuousClock.Instant?
    let channel: GuestAgentChannel

    init(_ request: Virthost_V1_ExecRequest, channel: GuestAgentChannel, deadline: CallDeadline? = CallDeadline.current) throws {
        ref = try ObjectRef(request.domain)
        try GuestAgentInput.exec(request)
        let now = ContinuousClock.now
        wait = try GuestAgentWait.resolve(
            timeoutSeconds: request.timeoutSeconds, deadline: deadline?.remaining(now: now), now: now)
        // Answer a little before the caller's deadline, so the reply (with
        // exited = false and the pid) still reaches it.
        if let limit = wait.limit, let until = wait.until {
            let margin = min(Duration.milliseconds(500), limit / 10)
            answerBy = deadline.map { min(until, $0.instant - margin) } ?? until
        } else {
            answerBy = nil
        }
        var arguments: [String: any Sendable] = ["path": request.program, "capture-output": true]
        if !request.args.isEmpty { arguments["arg"] = request.args }
        if !request.env.isEmpty { arguments["env"] = request.env }
        if !request.stdin.isEmpty { arguments["input-data"] = request.stdin.base64EncodedString() }
        self.arguments = arguments
        self.channel = channel
    }

    func run(
        context: ServerContext,
        started: (Int64) async throws -> Void,
        output: (Data, Data) async throws -> Void
    ) async throws -> Virthost_V1_ExecResponse {
        // Both commands must be allowed before anything starts in the guest.
        try channel.policy.check("guest-exec", for: "Exec")
        try channel.policy.check("guest-exec-status", for: "Exec")
        let (value, _) = try await channel.call(ref, execute: "guest-exec", arguments: arguments, wait: wait.remaining())
        let pid = try GuestAgentReplies.execPID(value)
        try await started(pid)
        var response = Virthost_V1_ExecResponse()
        response.pid = pid
        var pause = Duration.milliseconds(10)
        while true {
            if context.cancellation.isCancelled || Task.isCancelled {
                throw RPCError(code: .cancelled, message: "Exec was cancelled; the program (pid \(pid)) keeps running in the guest")
            }
            let (value, _) = try await channel.call(
                ref, execute: "guest-exec-status", arguments: ["pid": pid], wait: wait.remaining())
            let status = try GuestAgentReplies.execStatus(value)
            if !status.stdout.isEmpty || !status.stderr.isEmpty { try await output(status.stdout, status.stderr) }
            response.stdout.append(status.stdout)
            response.stderr.append(status.stderr)
            response.stdoutTruncated = response.stdoutTruncated || status.stdoutTruncated
            response.stderrTruncated = response.stderrTruncated || status.stderrTruncated
            if status.exited {
                response.exited = true
                response.exitCode = status.exitCode
                response.signal = status.signal
                return response
            }
            if let answerBy, ContinuousClock.now + pause >= answerBy {
                return response  // exited = false: the program keeps running
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(500))
        }
    }

    static func chunks(_ data: Data) -> [Data] {
        stride(from: 0, to: data.count, by: chunkSize).map {
            data.subdata(in: data.startIndex + $0..<data.startIndex + min($0 + chunkSize, data.count))
        }
    }
}

/// Checks on typed agent input, done before anything reaches libvirt.
enum GuestAgentInput {
    static func exec(_ request: Virthost_V1_ExecRequest) throws {
        try text(request.program, field: "program", limit: 4096)
        guard request.args.count <= 4096 else { throw Refusal.invalid("args has \(request.args.count) entries; the limit is 4096") }
        for (index, arg) in request.args.enumerated() { try text(arg, field: "args[\(index)]", limit: 128 << 10, allowEmpty: true) }
        guard request.env.count <= 1024 else { throw Refusal.invalid("env has \(request.env.count) entries; the limit is 1024") }
        for (index, entry) in request.env.enumerated() {
            try text(entry, field: "env[\(index)]", limit: 128 << 10)
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw Refusal.invalid("env[\(index)] '\(entry.prefix(64))' is not NAME=value")
            }
        }
        let total = request.args.reduce(0) { $0 + $1.utf8.count } + request.env.reduce(0) { $0 + $1.utf8.count }
        guard total <= 1 << 20 else { throw Refusal.invalid("args and env hold \(total) bytes; the limit is 1 MiB") }
        guard request.stdin.count <= GuestExec.maxStdin else {
            throw Refusal.invalid(
                "stdin is \(request.stdin.count) bytes; the limit is \(GuestExec.maxStdin) (larger guest-agent commands arrive unreliably)")
        }
    }

    static func mountpoints(_ mountpoints: [String]) throws {
        guard mountpoints.count <= 256 else { throw Refusal.invalid("mountpoints has \(mountpoints.count) entries; the limit is 256") }
        for (index, path) in mountpoints.enumerated() {
            try text(path, field: "mountpoints[\(index)]", limit: 4096)
            guard path.hasPrefix("/") else { throw Refusal.invalid("mountpoints[\(index)] '\(path.prefix(64))' is not an absolute path") }
        }
    }

    /// A string the agent gets as a C string: no NUL, bounded, not empty.
    static func text(_ value: String, field: String, limit: Int, allowEmpty: Bool = false) throws {
        if value.isEmpty, !allowEmpty { throw Refusal.invalid("\(field) is empty") }
        guard value.utf8.count <= limit else { throw Refusal.invalid("\(field) is longer than \(limit) bytes") }
        guard !value.utf8.contains(0) else { throw Refusal.invalid("\(field) holds a NUL character") }
    }
}
