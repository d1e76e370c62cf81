import Foundation
import GRPCCore
import VirtHostAPI

// Typed calls of the guest-agent area. Each takes an optional `timeout`: it
// becomes the call's gRPC deadline, which the agent passes on to libvirt
// (rounded up to whole seconds) so the guest agent is given up on in time,
// and a later call still works.

extension VirtHostClient {
    /// Sends one JSON command to the machine's guest agent, like
    /// `virsh qemu-agent-command`, and returns the agent's reply unchanged.
    ///
    /// - Parameters:
    ///   - json: `{"execute": "guest-...", "arguments": {...}}`.
    ///   - timeout: the call's deadline; nil waits for libvirt's default (5 s).
    ///   - mode: libvirt's block, default or no-wait modes instead of a deadline.
    /// - Throws: ``VirtHostError``: INVALID_ARGUMENT for a malformed command,
    ///   PERMISSION_DENIED when the agent's policy refuses it, UNAVAILABLE when
    ///   the guest agent is not connected, DEADLINE_EXCEEDED when it did not
    ///   answer in time, and the agent's own error replies (see
    ///   ``VirtHostError/guestAgentError``).
    public func agentCommand(
        domain: String, json: String, timeout: Duration? = nil, mode: Virthost_V1_AgentTimeoutMode = .deadline
    ) async throws -> String {
        try await agentCommandResponse(domain: domain, json: json, timeout: timeout, mode: mode).reply
    }

    /// ``agentCommand(domain:json:timeout:mode:)`` with the wait libvirt was given.
    public func agentCommandResponse(
        domain: String, json: String, timeout: Duration? = nil, mode: Virthost_V1_AgentTimeoutMode = .deadline
    ) async throws -> Virthost_V1_AgentCommandResponse {
        let request = Virthost_V1_AgentCommandRequest.with {
            $0.domain = .named(domain)
            $0.command = json
            $0.timeoutMode = mode
        }
        return try await call { try await agents.command(request, options: .deadline(timeout)) }
    }

    /// guest-ping; returns the round trip libvirt measured to the guest agent.
    public func pingAgent(domain: String, timeout: Duration? = nil) async throws -> Duration {
        let response = try await call { try await agents.ping(.named(domain), options: .deadline(timeout)) }
        return .microseconds(Int64(clamping: response.latencyUs))
    }

    /// guest-info: the agent's version and the commands it supports.
    public func agentInfo(domain: String, timeout: Duration? = nil) async throws -> Virthost_V1_AgentInfo {
        try await call { try await agents.getInfo(.named(domain), options: .deadline(timeout)) }
    }

    /// guest-get-osinfo.
    public func guestOSInfo(domain: String, timeout: Duration? = nil) async throws -> Virthost_V1_GuestOSInfo {
        try await call { try await agents.getOSInfo(.named(domain), options: .deadline(timeout)) }
    }

    /// guest-get-host-name.
    public func guestHostName(domain: String, timeout: Duration? = nil) async throws -> String {
        try await call { try await agents.getHostName(.named(domain), options: .deadline(timeout)).hostName }
    }

    /// guest-network-get-interfaces: name, MAC and addresses of each NIC the guest sees.
    public func guestInterfaces(domain: String, timeout: Duration? = nil) async throws -> [Virthost_V1_GuestInterface] {
        try await call { try await agents.getInterfaces(.named(domain), options: .deadline(timeout)).interfaces }
    }

    /// guest-get-fsinfo: mounted file systems on real disks.
    public func guestFilesystems(domain: String, timeout: Duration? = nil) async throws -> [Virthost_V1_GuestFilesystem] {
        try await call { try await agents.getFilesystems(.named(domain), options: .deadline(timeout)).filesystems }
    }

    /// guest-get-users: who is logged in.
    public func guestUsers(domain: String, timeout: Duration? = nil) async throws -> [Virthost_V1_GuestUser] {
        try await call { try await agents.getUsers(.named(domain), options: .deadline(timeout)).users }
    }

    /// guest-get-time: the guest's clock.
    public func guestTime(domain: String, timeout: Duration? = nil) async throws -> Date {
        try await call { try await agents.getTime(.named(domain), options: .deadline(timeout)).time.date }
    }

    /// Runs a program in the guest (guest-exec) and waits for it to exit, up
    /// to `timeout` (nil: until it exits). When the wait ends first, the
    /// reply has `exited == false` and the program keeps running.
    ///
    /// - Parameters:
    ///   - program: a path, or a name the guest's PATH finds.
    ///   - env: `NAME=value` entries (they replace the agent's environment).
    ///   - stdin: bytes fed to the program's standard input (at most 64 KiB).
    public func exec(
        domain: String, program: String, arguments: [String] = [], env: [String] = [], stdin: Data = Data(),
        timeout: Duration? = nil
    ) async throws -> Virthost_V1_ExecResponse {
        let request = Self.execRequest(domain, program, arguments, env, stdin)
        return try await call { try await agents.exec(request, options: .deadline(timeout)) }
    }

    /// Like ``exec(domain:program:arguments:env:stdin:timeout:)``, but hands
    /// each part to `onPart` as the agent sends it: `started` (the pid),
    /// stdout and stderr chunks, and last `exit`, which is also returned.
    ///
    /// qemu-ga 7.2 returns a program's output only once it has exited, so
    /// with it the chunks arrive together right before `exit`.
    @discardableResult
    public func execStream(
        domain: String, program: String, arguments: [String] = [], env: [String] = [], stdin: Data = Data(),
        timeout: Duration? = nil,
        onPart: @escaping @Sendable (Virthost_V1_ExecStreamResponse.OneOf_Part) async throws -> Void
    ) async throws -> Virthost_V1_ExecResponse {
        let request = Self.execRequest(domain, program, arguments, env, stdin)
        return try await call {
            try await agents.execStream(request, options: .deadline(timeout)) { response in
                var exit: Virthost_V1_ExecResponse?
                for try await message in response.messages {
                    guard let part = message.part else { continue }
                    if case .exit(let last) = part { exit = last }
                    try await onPart(part)
                }
                guard let exit else {
                    throw RPCError(code: .internalError, message: "the exec stream ended without an exit status")
                }
                return exit
            }
        }
    }

    /// guest-fsfreeze-freeze (or -freeze-list for chosen mount points);
    /// returns how many file systems were frozen.
    @discardableResult
    public func freezeFilesystems(domain: String, mountpoints: [String] = [], timeout: Duration? = nil) async throws -> Int {
        let request = Virthost_V1_FreezeRequest.with {
            $0.domain = .named(domain)
            $0.mountpoints = mountpoints
        }
        return try await call { Int(try await agents.freezeFilesystems(request, options: .deadline(timeout)).count) }
    }

    /// guest-fsfreeze-thaw; returns how many file systems were thawed.
    @discardableResult
    public func thawFilesystems(domain: String, timeout: Duration? = nil) async throws -> Int {
        try await call { Int(try await agents.thawFilesystems(.named(domain), options: .deadline(timeout)).count) }
    }

    /// guest-fsfreeze-status: whether the guest's file systems are frozen.
    public func filesystemsFrozen(domain: String, timeout: Duration? = nil) async throws -> Bool {
        try await call { try await agents.getFreezeStatus(.named(domain), options: .deadline(timeout)).frozen }
    }

    static func execRequest(_ domain: String, _ program: String, _ arguments: [String], _ env: [String], _ stdin: Data)
        -> Virthost_V1_ExecRequest
    {
        .with {
            $0.domain = .named(domain)
            $0.program = program
            $0.args = arguments
            $0.env = env
            $0.stdin = stdin
        }
    }
}

extension Virthost_V1_AgentRequest {
    /// A typed agent request for a machine named `name`.
    public static func named(_ name: String) -> Self { .with { $0.domain = .named(name) } }
}

extension CallOptions {
    /// Default options with a deadline when one is given.
    static func deadline(_ timeout: Duration?) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        return options
    }
}

extension VirtHostError {
    /// The guest agent's own error reply, when the call failed with one:
    /// its class (e.g. `GenericError`, `CommandNotFound`) and description.
    ///
    /// Unpacked from the status's `virthost.v1.AgentErrorDetail`, as gRPC
    /// clients in other languages read it (see ``VirtHostError/agentError``).
    public var guestAgentError: (errorClass: String, command: String, desc: String)? {
        agentError.map { ($0.errorClass, $0.command, $0.desc) }
    }
}
