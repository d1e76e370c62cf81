import Foundation
import Logging
import ServiceLifecycle
import Testing
import VirtHostClient
import VirtHostServer

/// Runs a real agent on a temporary Unix socket in this process, with a client
/// connected to it, and tears both down afterwards (also when the body throws).
enum DaemonHarness {
    /// The demo host of `make run`, loaded privately by libvirt's test driver.
    static var demoURI: String { "test://" + repoRoot.appendingPathComponent("packaging/demo/host.xml").path }

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A fresh folder for sockets; short, because socket paths are limited to 107 bytes.
    static func temporaryFolder() throws -> String {
        let path = "/tmp/vhu-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func withAgent<T: Sendable>(
        uri: String = demoURI, socketMode: mode_t = 0o600,
        _ body: (VirtHostClient, String) async throws -> T
    ) async throws -> T {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let configuration = DaemonSettings(libvirtURI: uri, socketPath: folder + "/agent.sock", socketMode: socketMode)
        return try await withAgent(configuration: configuration, body)
    }

    /// Runs an agent with a full configuration; the client talks to its main
    /// socket, or with `VIRTHOST_TRANSPORT=ttrpc` to a ttrpc socket the agent
    /// serves next to it (so any suite can run over either wire).
    static func withAgent<T: Sendable>(
        configuration: DaemonSettings, _ body: (VirtHostClient, String) async throws -> T
    ) async throws -> T {
        var configuration = configuration
        let path = configuration.socketPath
        let wire = VirtHostWire.default
        if wire == .ttrpc && configuration.ttrpcSocketPath == nil {
            configuration.ttrpcSocketPath = path + ".ttrpc"
        }
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        var logger = Logger(label: "test-agent")
        logger.logLevel = .warning
        let agent = try Daemon(configuration: configuration, logger: logger, onReady: { _ in readyContinuation.yield() })
        // The same lifecycle as virthostd: a ServiceGroup, stopped gracefully.
        let group = ServiceGroup(services: [agent], logger: logger)
        let server = Task { try await group.run() }
        var iterator = ready.makeAsyncIterator()
        _ = await iterator.next()
        let client = try VirtHostClient(socketPath: wire == .ttrpc ? configuration.ttrpcSocketPath : path, wire: wire)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(client, path))
        } catch {
            result = .failure(error)
        }
        await client.shutdown()
        await group.triggerGracefulShutdown()
        try await server.value
        return try result.get()
    }

    /// The error a call threw, as the client's error type.
    static func error(_ body: () async throws -> Void) async -> VirtHostError? {
        do {
            try await body()
            return nil
        } catch let error as VirtHostError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }
}
