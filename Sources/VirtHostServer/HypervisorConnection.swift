import Foundation
import GRPCCore
import Libvirt
import Logging

/// The agent's one libvirt connection, and the threads that call libvirt.
///
/// Every libvirt call runs on a ``BlockingExecutor`` thread, never on the
/// Swift concurrency pool or an event loop. When libvirt closes the
/// connection (daemon restart, keepalive timeout), calls fail with
/// UNAVAILABLE and a clear message while a background task reconnects with
/// backoff and registers the event callbacks again, so the agent keeps
/// serving without a restart.
public final class HypervisorConnection: @unchecked Sendable {
    /// The libvirt URI.
    public let uri: String
    /// When the agent started.
    public let startedAt = Date()
    /// Where libvirt's events (and connection changes) are recorded.
    public let events: EventHub

    let executor: BlockingExecutor
    private let logger: Logger
    private let lock = NSLock()
    private var connection: Connection?
    private var subscription: EventSubscription?
    private var opens = 0
    private var lastError = ""
    private var reconnecting = false
    private var stopped = false

    /// - Parameters:
    ///   - uri: the libvirt URI, e.g. `qemu:///system`.
    ///   - threads: how many libvirt calls may block at once.
    public init(
        uri: String, threads: Int = 4, events: EventHub = EventHub(),
        logger: Logger = Logger(label: "virthost.libvirt")
    ) {
        self.uri = uri
        self.events = events
        self.executor = BlockingExecutor(threads: threads, name: "libvirt")
        self.logger = logger
    }

    /// Runs `body` with the connection on a libvirt thread; libvirt errors
    /// become gRPC errors that carry libvirt's code.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        do {
            return try await executor.run { [self] in
                let connection = try self.current()
                do {
                    return try body(connection)
                } catch let error as LibvirtError where Self.mayBeConnectionFailure(error) {
                    try self.checkAfterFailure(connection, error)
                    throw error
                }
            }
        } catch let error as LibvirtError {
            throw ErrorMapping.rpcError(error)
        }
    }

    /// Errors a dead connection produces (a dying daemon can also leave
    /// VIR_ERR_INTERNAL_ERROR, "cause unknown", and keep isAlive true).
    static func mayBeConnectionFailure(_ error: LibvirtError) -> Bool {
        [1, 5, 6, 38, 39].contains(error.code)  // INTERNAL, NO_CONNECT, INVALID_CONN, SYSTEM_ERROR, RPC
    }

    /// After a suspicious failure, probes the connection on the same thread:
    /// when the probe fails too, the connection is dropped (a background task
    /// reconnects) and the caller gets UNAVAILABLE.
    private func checkAfterFailure(_ connection: Connection, _ error: LibvirtError) throws {
        guard (try? connection.libVersion()) == nil else { return }
        lock.withLock {
            guard self.connection === connection else { return }
            dropLocked(reason: "a call failed and the connection does not answer: \(error.message)")
            scheduleReconnectLocked()
        }
        throw LibvirtError(
            code: 5, domain: error.domain,  // VIR_ERR_NO_CONNECT: the client sees UNAVAILABLE
            message: "the connection to libvirt at \(uri) was lost (\(error.message)); the agent is reconnecting")
    }

    /// Opens the connection now, so a bad URI stops the daemon at start.
    public func connect() async throws {
        _ = try await run { _ in () }
    }

    /// Stops reconnecting and drops the connection (agent shutdown).
    public func close() {
        lock.withLock {
            stopped = true
            subscription?.cancel()
            subscription = nil
            connection = nil
        }
    }

    /// The connection's state, for health reports.
    public struct State: Sendable {
        public var connected: Bool
        public var reconnects: Int
        public var lastError: String
    }

    public func state() -> State {
        lock.withLock {
            State(connected: connection?.isAlive ?? false, reconnects: max(opens - 1, 0), lastError: lastError)
        }
    }

    /// The open connection, opening it first when there is none or it died.
    /// Runs on a libvirt thread.
    private func current() throws -> Connection {
        lock.lock()
        defer { lock.unlock() }
        if let connection, connection.isAlive { return connection }
        if connection != nil { dropLocked(reason: "connection found dead") }
        do {
            return try openLocked()
        } catch let error as LibvirtError {
            lastError = error.message
            scheduleReconnectLocked()
            throw LibvirtError(
                code: 5, domain: error.domain,  // VIR_ERR_NO_CONNECT: the client sees UNAVAILABLE
                message: "libvirt at \(uri) is not reachable (the agent keeps retrying): \(error.message)")
        }
    }

    private func openLocked() throws -> Connection {
        let fresh = try Connection.open(uri)
        // A dead daemon shows up as EOF at once; a hung one after 3 x 5 s.
        fresh.setKeepAlive(interval: 5, count: 3)
        try? fresh.onClose { [weak self, weak fresh] reason in
            guard let self, let fresh else { return }
            self.closed(fresh, reason: reason)
        }
        do {
            let events = self.events
            subscription = try fresh.subscribeEvents { events.publish($0) }
        } catch {
            logger.warning("libvirt events unavailable", metadata: ["uri": "\(uri)", "error": "\(error)"])
        }
        connection = fresh
        opens += 1
        lastError = ""
        if opens > 1 {
            events.publish(kind: .system, type: "libvirt-reconnected", detail: uri)
            logger.notice("reconnected to libvirt", metadata: ["uri": "\(uri)", "reconnects": "\(opens - 1)"])
        } else {
            logger.info("connected to libvirt", metadata: ["uri": "\(uri)"])
        }
        return fresh
    }

    /// libvirt's close callback, on the event-loop thread.
    private func closed(_ closing: Connection, reason: Connection.CloseReason) {
        lock.withLock {
            guard connection === closing else { return }
            dropLocked(reason: "libvirt closed the connection (\(reason))")
            scheduleReconnectLocked()
        }
    }

    private func dropLocked(reason: String) {
        subscription?.cancel()
        subscription = nil
        connection = nil
        lastError = reason
        events.publish(kind: .system, type: "libvirt-disconnected", detail: reason)
        logger.warning("libvirt connection lost", metadata: ["uri": "\(uri)", "reason": "\(reason)"])
    }

    /// Reconnects in the background with backoff (0.25 s doubling to 10 s),
    /// so events flow again without waiting for a call.
    private func scheduleReconnectLocked() {
        guard !reconnecting, !stopped else { return }
        reconnecting = true
        Task { [weak self] in
            var delay = 0.25
            while let self {
                try? await Task.sleep(for: .seconds(delay))
                let done = (try? await self.executor.run { [self] in self.reconnectAttempt() }) ?? true
                if done { return }
                delay = min(delay * 2, 10)
            }
        }
    }

    /// One attempt; true when there is nothing more to do.
    private func reconnectAttempt() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if stopped || (connection?.isAlive ?? false) {
            reconnecting = false
            return true
        }
        do {
            _ = try openLocked()
            reconnecting = false
            return true
        } catch {
            lastError = "\(error)"
            return false
        }
    }
}
