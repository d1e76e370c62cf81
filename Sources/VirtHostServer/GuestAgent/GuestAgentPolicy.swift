import GRPCCore
import GRPCProtobuf

/// Which guest-agent commands the agent forwards: an allow list and a deny
/// list of command names, checked before anything reaches libvirt.
///
/// A rule is a command name (`guest-exec`) or a prefix ending in `*`
/// (`guest-file-*`). The deny list wins; an empty allow list allows every
/// command not denied. Typed calls are checked by the agent commands they
/// send (Exec needs `guest-exec` and `guest-exec-status`), and a quiesced
/// snapshot needs `guest-fsfreeze-freeze` and `guest-fsfreeze-thaw`.
///
/// A plain value, so a configuration file can fill it as well as flags.
public struct GuestAgentPolicy: Sendable, Equatable, Codable {
    /// Commands allowed; empty allows all.
    public var allow: [String]
    /// Commands refused even when allowed.
    public var deny: [String]

    /// The default: every command allowed, none denied.
    public init(allow: [String] = [], deny: [String] = []) {
        self.allow = allow
        self.deny = deny
    }

    /// Allows every command.
    public static let allowAll = GuestAgentPolicy()

    /// Why a rule is not well formed, or nil when it is.
    public static func problem(withRule rule: String) -> String? {
        var name = Substring(rule)
        if name.hasSuffix("*") { name = name.dropLast() }
        if name.isEmpty { return rule.isEmpty ? "an agent command rule is empty" : nil }  // "*" matches every command
        guard name.utf8.count <= 128 else { return "agent command rule '\(rule.prefix(64))...' is longer than 128 bytes" }
        for scalar in name.unicodeScalars {
            let ok = scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_" || scalar == ".")
            guard ok else {
                return "agent command rule '\(rule)' may hold only letters, digits, '-', '_', '.', and a trailing '*'"
            }
        }
        return nil
    }

    /// Every rule's problem, for configuration checks at start.
    public func problems() -> [String] {
        (allow + deny).compactMap(Self.problem(withRule:))
    }

    /// The outcome of checking one command.
    public enum Decision: Sendable, Equatable {
        case allowed
        /// Matched this deny rule.
        case denied(rule: String)
        /// The allow list is not empty and matched nothing.
        case notAllowed
    }

    public func decide(_ command: String) -> Decision {
        if let rule = deny.first(where: { Self.matches($0, command) }) { return .denied(rule: rule) }
        if !allow.isEmpty, !allow.contains(where: { Self.matches($0, command) }) { return .notAllowed }
        return .allowed
    }

    static func matches(_ rule: String, _ command: String) -> Bool {
        rule.hasSuffix("*") ? command.hasPrefix(rule.dropLast()) : rule == command
    }

    /// Throws PERMISSION_DENIED naming the rule when a command may not be sent.
    func check(_ command: String, for purpose: String? = nil) throws {
        let what = purpose.map { "\($0) needs the agent command '\(command)', which" } ?? "agent command '\(command)'"
        switch decide(command) {
        case .allowed: return
        case .denied(let rule):
            throw Self.denial(
                "\(what) is denied by the rule '\(rule)' of the agent's deny list (--agent-deny \(rule))",
                command: command, rule: rule, list: "deny")
        case .notAllowed:
            let list = allow.prefix(8).joined(separator: ", ") + (allow.count > 8 ? ", ..." : "")
            throw Self.denial(
                "\(what) is not in the agent's allow list (\(list))", command: command, rule: "", list: "allow")
        }
    }

    private static func denial(_ message: String, command: String, rule: String, list: String) -> RPCError {
        let status = GoogleRPCStatus(
            code: .permissionDenied, message: message,
            details: [
                .errorInfo(
                    reason: "AGENT_COMMAND_DENIED", domain: "virthost",
                    metadata: ["command": command, "rule": rule, "list": list])
            ])
        return RPCError(status)
    }
}
