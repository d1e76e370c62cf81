import Foundation
import GRPCCore
import Libvirt
import Logging

/// The agent's one libvirt connection, and the threads that call libvirt.
///
/// Every libvirt call runs on a ``BlockingExecutor`` thread, never on the
/// Swift concurrency pool or an event loop. The connection is opened on first
/// use and opened again when libvirt reports it closed (daemon restart,
/// keepalive timeout), so a libvirtd restart costs failed calls, not a restart
/// of the agent.
public final class HypervisorConnection: @unchecked Sendable {
    /// The libvirt URI.
    public let uri: String
    /// When the agent started.
    public let startedAt = Date()

    let executor: BlockingExecutor
    private let logger: Logger
    private let lock = NSLock()
    private var connection: Connection?
    private var opens = 0
    private var lastError: String = ""

    /// - Parameters:
    ///   - uri: the libvirt URI, e.g. `qemu:///system`.
    ///   - threads: how many libvirt calls may block at once.
    public init(uri: String, threads: Int = 4, logger: Logger = Logger(label: "virthost.libvirt")) {
        self.uri = uri
        self.executor = BlockingExecutor(threads: threads, name: "libvirt")
        self.logger = logger
    }

    /// Runs `body` with the connection on a libvirt thread; libvirt errors
    /// become gRPC errors that carry libvirt's code.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        do {
            return try await executor.run { [self] in try body(try self.current()) }
        } catch let error as LibvirtError {
            noteFailure(error)
            throw ErrorMapping.rpcError(error)
        }
    }

    /// Opens the connection now, so a bad URI stops the daemon at start.
    public func connect() async throws {
        _ = try await run { _ in () }
    }

    /// The connection's state, for health reports.
    public struct State: Sendable {
        public var connected: Bool
        public var reconnects: Int
        public var lastError: String
    }

    public func state() -> State {
        lock.lock()
        defer { lock.unlock() }
        let alive = connection?.isAlive ?? false
        return State(connected: alive, reconnects: max(opens - 1, 0), lastError: lastError)
    }

    /// The open connection, opening it first when there is none or it died.
    /// Runs on a libvirt thread.
    private func current() throws -> Connection {
        lock.lock()
        defer { lock.unlock() }
        if let connection, connection.isAlive { return connection }
        if connection != nil {
            logger.warning("libvirt connection lost; reconnecting", metadata: ["uri": "\(uri)"])
        }
        connection = nil
        do {
            let fresh = try Connection.open(uri)
            fresh.setKeepAlive(interval: 5, count: 3)
            let logger = self.logger
            let uri = self.uri
            try? fresh.onClose { reason in
                logger.warning("libvirt closed the connection", metadata: ["uri": "\(uri)", "reason": "\(reason)"])
            }
            connection = fresh
            opens += 1
            lastError = ""
            logger.info("connected to libvirt", metadata: ["uri": "\(uri)"])
            return fresh
        } catch let error as LibvirtError {
            lastError = error.message
            throw LibvirtError(
                code: 5, domain: error.domain,  // VIR_ERR_NO_CONNECT: the client sees UNAVAILABLE
                message: "libvirt at \(uri) is not reachable: \(error.message)")
        }
    }

    private func noteFailure(_ error: LibvirtError) {
        lock.lock()
        defer { lock.unlock() }
        if ErrorMapping.statusCode(forLibvirtCode: error.code) == .unavailable {
            lastError = error.message
        }
    }
}
