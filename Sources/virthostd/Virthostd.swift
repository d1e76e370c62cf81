import ArgumentParser
import CLibvirtVersion
import Foundation
import Libvirt
import Logging
import ServiceLifecycle
import VirtHostServer

/// `virthostd`: the host agent. Holds one libvirt connection and serves the
/// virthost.v1 gRPC services on a Unix socket until SIGINT or SIGTERM.
@main
struct Virthostd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "virthostd",
        abstract: "Serve libvirt as gRPC on a Unix socket.",
        discussion: """
            virthostd keeps one libvirt connection and serves the virthost.v1 services \
            (hosts, machines, networks, storage, guest agent, events) as gRPC over a Unix \
            socket. Options come from the configuration file (default \
            /etc/virthost/virthostd.toml, when it exists); flags override it. SIGINT or \
            SIGTERM lets in-flight calls finish, then removes the socket.
            """,
        version: "\(DaemonVersion.current) (built against libvirt \(LibvirtRuntime.versionString(UInt64(virthost_libvirt_headers_version()))), "
            + "running libvirt \(LibvirtRuntime.versionString(LibvirtRuntime.libraryVersion)))")

    static let defaultConfigPath = "/etc/virthost/virthostd.toml"

    @Option(name: .long, help: "Configuration file (default: \(Virthostd.defaultConfigPath) when it exists).")
    var config: String?

    @Option(name: .long, help: "libvirt URI to connect to (default qemu:///system).")
    var connect: String?

    @Option(name: .long, help: "Path of the gRPC Unix socket (default /run/virthost/virthost.sock).")
    var socket: String?

    @Option(name: .customLong("socket-mode"), help: "Octal mode of the socket file (default 0660).")
    var socketMode: String?

    @Option(name: .customLong("socket-group"), help: "Group of the socket file, name or number (default virthost, when it exists).")
    var socketGroup: String?

    @Option(name: .customLong("read-only-socket"), help: "Also serve a socket on which every caller is at most a reader.")
    var readOnlySocket: String?

    @Option(name: .customLong("ttrpc-socket"), help: "Also serve the same services over containerd's ttrpc on this socket (main socket's mode and group).")
    var ttrpcSocket: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    @Option(name: .customLong("libvirt-threads"), help: "How many libvirt calls may block at once (default 4).")
    var libvirtThreads: Int?

    @Option(name: .customLong("shutdown-grace"), help: "Seconds in-flight calls get to finish on SIGTERM before they are cancelled (default 10).")
    var shutdownGrace: Int?

    @Option(name: .customLong("agent-allow"), help: "Allow this raw guest-agent command (repeatable; a trailing * matches a prefix).")
    var agentAllow: [String] = []

    @Option(name: .customLong("agent-deny"), help: "Refuse this raw guest-agent command (repeatable; a trailing * matches a prefix).")
    var agentDeny: [String] = []

    @Option(name: .customLong("state-dir"), help: "Folder of the state database: request ids and operations (default /var/lib/virthost).")
    var stateDir: String?

    @Flag(name: .customLong("check-config"), help: "Check the configuration, print the effective settings, and exit.")
    var checkConfig = false

    @Option(name: .customLong("metrics-address"), help: "Serve Prometheus metrics at http://ADDRESS/metrics, e.g. 127.0.0.1:9479 (default: off).")
    var metricsAddress: String?

    /// The file's settings with the flags applied on top.
    func effectiveConfiguration() throws -> DaemonConfiguration {
        var settings = DaemonConfiguration()
        if let path = config ?? (FileManager.default.fileExists(atPath: Self.defaultConfigPath) ? Self.defaultConfigPath : nil) {
            settings = try DaemonConfiguration.load(path: path)
        }
        if let connect { settings.daemon.libvirtURI = connect }
        if let stateDir {
            guard stateDir.hasPrefix("/") else { throw ValidationError("--state-dir must be an absolute path") }
            settings.daemon.stateDirectory = stateDir
        }
        if let socket { settings.daemon.socketPath = socket }
        if let socketMode {
            guard let mode = mode_t(socketMode, radix: 8), mode <= 0o777 else {
                throw ValidationError("--socket-mode must be an octal mode like 0660")
            }
            settings.daemon.socketMode = mode
        }
        if let socketGroup {
            settings.daemon.socketGroup = socketGroup
            settings.socketGroupExplicit = true
        }
        if let readOnlySocket { settings.daemon.readOnlySocketPath = readOnlySocket }
        if let ttrpcSocket { settings.daemon.ttrpcSocketPath = ttrpcSocket.isEmpty ? nil : ttrpcSocket }
        if let logLevel {
            guard Logger.Level(rawValue: logLevel) != nil else {
                throw ValidationError("--log-level must be one of: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            settings.logLevel = logLevel
        }
        if let libvirtThreads {
            guard (1...256).contains(libvirtThreads) else { throw ValidationError("--libvirt-threads must be 1-256") }
            settings.daemon.libvirtThreads = libvirtThreads
        }
        if let shutdownGrace {
            guard shutdownGrace >= 0 else { throw ValidationError("--shutdown-grace must not be negative") }
            settings.shutdownGraceSeconds = shutdownGrace
        }
        if !agentAllow.isEmpty { settings.guestAgentPolicy.allow = agentAllow }
        if !agentDeny.isEmpty { settings.guestAgentPolicy.deny = agentDeny }
        if let problem = settings.guestAgentPolicy.problems().first { throw ValidationError(problem) }
        settings.daemon.guestAgentPolicy = settings.guestAgentPolicy
        if let metricsAddress {
            guard metricsAddress.isEmpty || MetricsEndpoint(metricsAddress) != nil else {
                throw ValidationError("--metrics-address: \(MetricsEndpoint.expectation)")
            }
            settings.metricsAddress = metricsAddress.isEmpty ? nil : MetricsEndpoint(metricsAddress)
        }
        if settings.metricsAddress != nil {
            settings.daemon.metrics = DaemonMetrics(libvirtLibrary: LibvirtRuntime.versionString(LibvirtRuntime.libraryVersion))
        }
        // Sockets systemd passed (virthostd.socket) replace binding our own.
        try SocketActivation.adopt(into: &settings.daemon)
        // The default group only applies where it exists; a named one must.
        if !settings.socketGroupExplicit {
            settings.daemon.socketGroup = getgrnam("virthost") != nil ? "virthost" : nil
        }
        return settings
    }

    func run() async throws {
        let settings: DaemonConfiguration
        do {
            settings = try effectiveConfiguration()
        } catch let invalid as DaemonConfiguration.Invalid {
            FileHandle.standardError.write(Data("virthostd: configuration error: \(invalid)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
        if checkConfig {
            let a = settings.daemon
            func listed(_ names: Set<String>) -> String { names.isEmpty ? "-" : names.sorted().joined(separator: ", ") }
            print("""
                connect: \(a.libvirtURI)
                socket: \(a.socketPath) mode \(String(a.socketMode, radix: 8)) group \(a.socketGroup ?? "-")
                read-only socket: \(a.readOnlySocketPath ?? "-")
                ttrpc socket: \(a.ttrpcSocketPath ?? "-")
                access: admin uids \(a.access.adminUIDs.sorted()) groups \(a.access.adminGroups.sorted()); \
                operator uids \(a.access.operatorUIDs.sorted()) groups \(a.access.operatorGroups.sorted()); \
                reader uids \(a.access.readerUIDs.sorted()) groups \(a.access.readerGroups.sorted()); default \(a.access.defaultRole)
                storage roots: \(a.access.confinement.storageRoots.isEmpty ? "none" : a.access.confinement.storageRoots.joined(separator: ", "))
                operator bridges: \(listed(a.access.confinement.operatorBridges)); operator devices: \(listed(a.access.confinement.operatorDevices))
                limits: message \(a.limits.maxMessageBytes) B, calls \(a.limits.maxConcurrentCalls) total / \
                \(a.limits.maxConcurrentCallsPerConnection) per connection, default deadline \(a.limits.defaultDeadlineSeconds) s
                events: buffer \(a.eventBuffer)
                state: \(a.stateDirectory ?? "in memory"), request ids kept \(a.requestTTL.components.seconds) s
                guest agent: allow \(settings.guestAgentPolicy.allow) deny \(settings.guestAgentPolicy.deny)
                log level: \(settings.logLevel), shutdown grace \(settings.shutdownGraceSeconds) s
                metrics: \(settings.metricsAddress.map { "http://\($0)/metrics" } ?? "-")
                """)
            return
        }
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        // Logs go to stderr: unbuffered, and the journal keeps them under systemd.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "virthostd")
        // Under systemd (Type=notify), READY=1 once every socket accepts calls.
        let daemon: Daemon
        do {
            daemon = try Daemon(configuration: settings.daemon, logger: logger, onReady: { _ in SystemdNotify.ready() })
        } catch let error as StateDatabase.OpenError {
            FileHandle.standardError.write(Data("virthostd: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG: an operator has to look
        }
        do {
            // Fail at start, not at the first call, when libvirt is unreachable.
            try await daemon.hypervisor.connect()
        } catch {
            logger.critical("cannot connect to libvirt", metadata: ["uri": "\(settings.daemon.libvirtURI)", "error": "\(error)"])
            throw ExitCode(2)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: daemon, successTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if let endpoint = settings.metricsAddress, let metrics = settings.daemon.metrics {
            services.append(.init(service: MetricsServer(endpoint: endpoint, metrics: metrics, hypervisor: daemon.hypervisor, logger: logger)))
        }
        var group = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(settings.shutdownGraceSeconds)
        group.maximumCancellationDuration = .seconds(5)
        do {
            try await ServiceGroup(configuration: group).run()
        } catch let refusal as SocketFile.Refusal {
            logger.critical("cannot serve", metadata: ["error": "\(refusal)"])
            throw ExitCode(1)
        }
    }
}
