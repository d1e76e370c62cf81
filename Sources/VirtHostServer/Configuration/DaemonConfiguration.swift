import Foundation
import Glibc
import HostNetworking

/// `virthostd.toml`: every option of the daemon, read from a file.
///
/// Unknown keys and wrong types stop the start with the line and the reason;
/// command-line flags override what the file says. The documented default file
/// is `packaging/virthostd.toml`.
public struct DaemonConfiguration: Sendable {
    /// The agent's settings (socket, access, limits, events...).
    public var daemon = DaemonSettings()
    public var logLevel = "info"
    public var shutdownGraceSeconds = 10
    /// Whether the file named the socket group (a missing group is then an error).
    public var socketGroupExplicit = false
    /// Which raw guest-agent commands are forwarded ([guest_agent] allow, deny).
    public var guestAgentPolicy = GuestAgentPolicy()
    /// Where Prometheus metrics are served ([metrics] address); nil: nowhere.
    public var metricsAddress: MetricsEndpoint?

    /// The state folder virthostd uses unless told otherwise.
    public static let defaultStateDirectory = "/var/lib/virthost"

    public init() {
        daemon.stateDirectory = Self.defaultStateDirectory
    }

    /// Why a configuration file was refused.
    public struct Invalid: Error, CustomStringConvertible {
        public let path: String
        public let line: Int?
        public let reason: String
        public var description: String {
            line.map { "\(path):\($0): \(reason)" } ?? "\(path): \(reason)"
        }
    }

    /// Reads and checks a configuration file.
    public static func load(path: String) throws -> DaemonConfiguration {
        // A FileHandle, not Data(contentsOf:): that refuses /dev/null and other devices.
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
            throw Invalid(path: path, line: nil, reason: reason)
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw Invalid(path: path, line: nil, reason: "cannot read the file (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Invalid(path: path, line: nil, reason: "the file is not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// Parses configuration text; `path` names it in errors.
    public static func parse(_ text: String, path: String = "virthostd.toml") throws -> DaemonConfiguration {
        let root: [String: TOMLValue]
        let lines: TOMLLines
        do {
            let (value, keyLines) = try TOML.parse(text)
            guard case .table(let table) = value else { throw Invalid(path: path, line: nil, reason: "not a table") }
            root = table
            lines = keyLines
        } catch let error as TOML.ParseError {
            throw Invalid(path: path, line: error.line, reason: error.reason)
        }
        var reader = Reader(root: root, lines: lines, path: path)
        var config = DaemonConfiguration()
        try reader.read(into: &config)
        return config
    }

    /// Walks the parsed file, consuming every key it knows, refusing the rest.
    struct Reader {
        let root: [String: TOMLValue]
        let lines: TOMLLines
        let path: String
        var seen: Set<String> = []

        func fail(_ key: String, _ reason: String) -> Invalid {
            Invalid(path: path, line: lines[key], reason: "\(key): \(reason)")
        }

        mutating func value(_ key: String) -> TOMLValue? {
            var node: TOMLValue = .table(root)
            for part in key.split(separator: ".") {
                guard case .table(let table) = node, let next = table[String(part)] else { return nil }
                node = next
            }
            seen.insert(key)
            return node
        }

        mutating func string(_ key: String) throws -> String? {
            guard let value = value(key) else { return nil }
            guard case .string(let text) = value else { throw fail(key, "expected a string in quotes") }
            return text
        }

        mutating func int(_ key: String, _ range: ClosedRange<Int64>) throws -> Int? {
            guard let value = value(key) else { return nil }
            guard case .integer(let number) = value else { throw fail(key, "expected a whole number") }
            guard range.contains(number) else { throw fail(key, "\(number) is outside \(range.lowerBound)...\(range.upperBound)") }
            return Int(number)
        }

        mutating func number(_ key: String, _ range: ClosedRange<Double>) throws -> Double? {
            guard let value = value(key) else { return nil }
            let number: Double
            switch value {
            case .integer(let whole): number = Double(whole)
            case .float(let fraction): number = fraction
            default: throw fail(key, "expected a number")
            }
            guard range.contains(number) else { throw fail(key, "\(number) is outside \(range.lowerBound)...\(range.upperBound)") }
            return number
        }

        mutating func strings(_ key: String) throws -> [String]? {
            guard let value = value(key) else { return nil }
            guard case .array(let items) = value else { throw fail(key, "expected an array of strings, like [\"a\", \"b\"]") }
            return try items.map {
                guard case .string(let text) = $0 else { throw fail(key, "expected an array of strings, like [\"a\", \"b\"]") }
                return text
            }
        }

        mutating func uids(_ key: String) throws -> Set<UInt32>? {
            guard let value = value(key) else { return nil }
            guard case .array(let items) = value else { throw fail(key, "expected an array of uids or user names") }
            return Set(try items.map { item -> UInt32 in
                switch item {
                case .integer(let number) where number >= 0 && number < Int64(UInt32.max): return UInt32(number)
                case .string(let name):
                    guard let entry = getpwnam(name) else { throw fail(key, "no user named '\(name)'") }
                    return entry.pointee.pw_uid
                default: throw fail(key, "expected uids (numbers) or user names (strings)")
                }
            })
        }

        mutating func gids(_ key: String) throws -> Set<UInt32>? {
            guard let value = value(key) else { return nil }
            guard case .array(let items) = value else { throw fail(key, "expected an array of gids or group names") }
            return Set(try items.map { item -> UInt32 in
                switch item {
                case .integer(let number) where number >= 0 && number < Int64(UInt32.max): return UInt32(number)
                case .string(let name):
                    guard let entry = getgrnam(name) else { throw fail(key, "no group named '\(name)'") }
                    return entry.pointee.gr_gid
                default: throw fail(key, "expected gids (numbers) or group names (strings)")
                }
            })
        }

        mutating func mode(_ key: String) throws -> mode_t? {
            guard let text = try string(key) else { return nil }
            guard let mode = mode_t(text, radix: 8), mode <= 0o777 else { throw fail(key, "expected an octal mode in quotes, like \"0660\"") }
            return mode
        }

        mutating func read(into config: inout DaemonConfiguration) throws {
            if let uri = try string("connect") {
                guard !uri.isEmpty else { throw fail("connect", "must not be empty") }
                config.daemon.libvirtURI = uri
            }
            if let threads = try int("libvirt_threads", 1...256) { config.daemon.libvirtThreads = threads }
            if let level = try string("log_level") {
                let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
                guard levels.contains(level) else { throw fail("log_level", "expected one of \(levels.joined(separator: ", "))") }
                config.logLevel = level
            }
            if let grace = try int("shutdown_grace_seconds", 0...3600) { config.shutdownGraceSeconds = grace }

            if let path = try string("socket.path") { config.daemon.socketPath = path }
            if let mode = try mode("socket.mode") { config.daemon.socketMode = mode }
            if let group = try string("socket.group") {
                config.daemon.socketGroup = group.isEmpty ? nil : group
                config.socketGroupExplicit = !group.isEmpty
            }
            if let path = try string("socket.read_only_path") { config.daemon.readOnlySocketPath = path.isEmpty ? nil : path }
            if let mode = try mode("socket.read_only_mode") { config.daemon.readOnlySocketMode = mode }
            if let path = try string("socket.ttrpc_path") { config.daemon.ttrpcSocketPath = path.isEmpty ? nil : path }

            if let ids = try uids("access.admin_uids") { config.daemon.access.adminUIDs = ids }
            if let ids = try gids("access.admin_groups") { config.daemon.access.adminGroups = ids }
            if let ids = try uids("access.operator_uids") { config.daemon.access.operatorUIDs = ids }
            if let ids = try gids("access.operator_groups") { config.daemon.access.operatorGroups = ids }
            if let ids = try uids("access.reader_uids") { config.daemon.access.readerUIDs = ids }
            if let ids = try gids("access.reader_groups") { config.daemon.access.readerGroups = ids }
            if let name = try string("access.default_role") {
                guard let role = Role(name: name) else {
                    throw fail("access.default_role", "expected none, reader, operator or admin")
                }
                config.daemon.access.defaultRole = role
            }
            try readConfinement(into: &config.daemon.access.confinement)

            if let bytes = try int("limits.max_message_bytes", 1024...(256 << 20)) { config.daemon.limits.maxMessageBytes = bytes }
            if let calls = try int("limits.max_concurrent_calls", 1...100_000) { config.daemon.limits.maxConcurrentCalls = calls }
            if let calls = try int("limits.max_concurrent_calls_per_connection", 1...10_000) {
                config.daemon.limits.maxConcurrentCallsPerConnection = calls
            }
            if let seconds = try number("limits.default_deadline_seconds", 0...86_400) {
                config.daemon.limits.defaultDeadlineSeconds = seconds
            }
            if let buffer = try int("events.buffer", 1...1_000_000) { config.daemon.eventBuffer = buffer }
            if let address = try string("metrics.address"), !address.isEmpty {
                guard let endpoint = MetricsEndpoint(address) else { throw fail("metrics.address", MetricsEndpoint.expectation) }
                config.metricsAddress = endpoint
            }

            if let dir = try string("state.dir") {
                guard dir.hasPrefix("/") else { throw fail("state.dir", "expected an absolute path") }
                config.daemon.stateDirectory = dir
            }
            if let value = value("state.request_ttl") {
                guard let ttl = Self.duration(value) else {
                    throw fail("state.request_ttl", "expected seconds (86400) or a duration like \"24h\", \"30m\", \"7d\" (1 minute to 365 days)")
                }
                config.daemon.requestTTL = ttl
            }
            try readGuestAgent(into: &config)
            try refuseUnknown()
        }

        /// What operators may reach: [access] storage_roots, operator_bridges,
        /// operator_devices, operator_taps (see ``Confinement``).
        mutating func readConfinement(into confinement: inout Confinement) throws {
            if let roots = try strings("access.storage_roots") {
                for root in roots {
                    guard root.hasPrefix("/"), !root.split(separator: "/").contains(".."), !root.contains("\0") else {
                        throw fail("access.storage_roots", "'\(root)' is not an absolute path without '..'")
                    }
                }
                confinement.storageRoots = roots
            }
            for key in ["access.operator_bridges", "access.operator_devices", "access.operator_taps"] {
                guard let names = try strings(key) else { continue }
                for name in names {
                    if let problem = HostLinks.nameProblem(name) { throw fail(key, "'\(name)' \(problem)") }
                }
                switch key {
                case "access.operator_bridges": confinement.operatorBridges = Set(names)
                case "access.operator_taps": confinement.operatorTaps = Set(names)
                default: confinement.operatorDevices = Set(names)
                }
            }
        }

        /// A duration: whole seconds, or a number with s, m, h or d; 1 min...365 d.
        static func duration(_ value: TOMLValue) -> Duration? {
            var seconds: Int64?
            switch value {
            case .integer(let number): seconds = number
            case .string(let text):
                let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
                if let unit = text.last.flatMap({ units[$0] }), let number = Int64(text.dropLast()) { seconds = number * unit }
            default: break
            }
            guard let seconds, (60...(365 * 86400)).contains(seconds) else { return nil }
            return .seconds(seconds)
        }

        /// Keys under [guest_agent]; see GuestAgentPolicy.
        mutating func readGuestAgent(into config: inout DaemonConfiguration) throws {
            for key in ["guest_agent.allow", "guest_agent.deny"] {
                guard let rules = try strings(key) else { continue }
                if let problem = rules.lazy.compactMap(GuestAgentPolicy.problem(withRule:)).first { throw fail(key, problem) }
                if key.hasSuffix("allow") { config.guestAgentPolicy.allow = rules } else { config.guestAgentPolicy.deny = rules }
            }
        }

        /// Every key the file sets must be one this reader consumed.
        func refuseUnknown() throws {
            var unknown: [(String, Int)] = []
            func walk(_ table: [String: TOMLValue], _ prefix: String) {
                for (key, value) in table {
                    let full = prefix.isEmpty ? key : "\(prefix).\(key)"
                    if case .table(let nested) = value, !seen.contains(full) {
                        walk(nested, full)
                    } else if !seen.contains(full) {
                        unknown.append((full, lines[full] ?? 0))
                    }
                }
            }
            walk(root, "")
            if let first = unknown.min(by: { $0.1 < $1.1 }) {
                throw Invalid(path: path, line: first.1, reason: "unknown option '\(first.0)' (see packaging/virthostd.toml for every option)")
            }
        }
    }
}
