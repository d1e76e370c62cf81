import ArgumentParser
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
            socket. SIGINT or SIGTERM lets in-flight calls finish, then removes the socket.
            """,
        version: "\(AgentVersion.current) (libvirt \(LibvirtRuntime.versionString(LibvirtRuntime.libraryVersion)))")

    @Option(name: .long, help: "libvirt URI to connect to.")
    var connect = "qemu:///system"

    @Option(name: .long, help: "Path of the gRPC Unix socket.")
    var socket = "/run/virthost/virthost.sock"

    @Option(name: .customLong("socket-mode"), help: "Octal mode of the socket file.")
    var socketMode = "0660"

    @Option(name: .customLong("socket-group"), help: "Group of the socket file (name or number).")
    var socketGroup: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(name: .customLong("libvirt-threads"), help: "How many libvirt calls may block at once.")
    var libvirtThreads = 4

    @Option(name: .customLong("shutdown-grace"), help: "Seconds in-flight calls get to finish on SIGTERM before they are cancelled.")
    var shutdownGrace = 10

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let mode = mode_t(socketMode, radix: 8), mode <= 0o777 else {
            throw ValidationError("--socket-mode must be an octal mode like 0660")
        }
        _ = mode
        guard (1...256).contains(libvirtThreads) else { throw ValidationError("--libvirt-threads must be 1-256") }
        guard shutdownGrace >= 0 else { throw ValidationError("--shutdown-grace must not be negative") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        // Logs go to stderr: unbuffered, and the journal keeps them under systemd.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "virthostd")
        let agent = Agent(
            configuration: AgentConfiguration(
                libvirtURI: connect, socketPath: socket, socketMode: mode_t(socketMode, radix: 8) ?? 0o660,
                socketGroup: socketGroup, libvirtThreads: libvirtThreads),
            logger: logger)
        do {
            // Fail at start, not at the first call, when libvirt is unreachable.
            try await agent.hypervisor.connect()
        } catch {
            logger.critical("cannot connect to libvirt", metadata: ["uri": "\(connect)", "error": "\(error)"])
            throw ExitCode(2)
        }
        var config = ServiceGroupConfiguration(
            services: [.init(service: agent, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        config.maximumGracefulShutdownDuration = .seconds(shutdownGrace)
        config.maximumCancellationDuration = .seconds(5)
        do {
            try await ServiceGroup(configuration: config).run()
        } catch let refusal as SocketFile.Refusal {
            logger.critical("cannot serve", metadata: ["error": "\(refusal)"])
            throw ExitCode(1)
        }
    }
}
