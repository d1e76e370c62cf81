import Foundation
import GRPCCore
import Libvirt
import Logging
import Synchronization

/// The agent's one libvirt connection, and the threads that call libvirt.
///
/// Every libvirt call runs on a ``BlockingExecutor`` thread, never on the
/// Swift concurrency pool or an event loop. When libvirt closes the
/// connection (daemon restart, keepalive timeout), calls fail with
/// UNAVAILABLE and a clear message while a background task reconnects with
/// backoff and registers the event callbacks again, so the agent keeps
/// serving without a restart and event watchers keep their streams.
///
/// Locking: `lock` guards the fields below and is never held across a
/// libvirt call (opening can block for as long as a starting daemon takes;
/// deregistering events is a round trip). One thread opens at a time; calls
/// that find it opening wait for it briefly, then get UNAVAILABLE.
// Unchecked: every field below `lock` is guarded by it, an NSCondition kept for
// the bounded wait on an open in progress (see "Locking" above).
public final class HypervisorConnection: @unchecked Sendable {
    /// The libvirt URI.
    public let uri: String
    /// When the agent started.
    public let startedAt = Date()
    /// Where libvirt's events (and connection changes) are recorded.
    public let events: EventHub

    let executor: BlockingExecutor
    /// Tells a libvirtd that does not answer (see ``LibvirtProbe``).
    let probe: LibvirtProbe
    /// At most this many calls about one machine hold libvirt threads at once.
    let machineGate: KeyedGate
    /// The host's guest OS types, for lists (see ``DomainListing``).
    let guestOSTypes = GuestOSTypes()
    /// What lists derived from XML and file stats (see ``ListCaches``).
    let listCaches = ListCaches()
    /// Calls in ``run(_:)`` now.
    private let inFlight = Atomic<Int>(0)
    private let logger: Logger
    /// Guards the fields below; signalled when an open ends.
    private let lock = NSCondition()
    private var connection: Connection?
    private var subscription: EventSubscription?
    private var opens = 0
    private var lastError = ""
    /// A thread is opening a connection now.
    private var opening = false
    /// The background reconnect task runs.
    private var reconnecting = false
    private var stopped = false

    /// Background reconnects start after this delay and double up to
    /// ``maximumBackoff``; a call while disconnected tries at once.
    static let firstBackoff = 0.25
    static let maximumBackoff = 4.0
    /// How long a call waits for another thread's open before answering UNAVAILABLE.
    static let openWait = 2.0

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
        self.probe = LibvirtProbe(uri: uri, events: events, logger: logger)
        // A machine whose QEMU is frozen holds its calls in libvirt for up to
        // 30 s (libvirt's job lock): half the threads at most, so calls about
        // everything else go on.
        self.machineGate = KeyedGate(perKey: max(1, threads / 2), total: .max, what: "calls about the same machine")
        self.logger = logger
    }

    /// Calls serving now, for health reports.
    public var callsInFlight: Int { inFlight.load(ordering: .relaxed) }

    /// Runs `body` with the connection on a libvirt thread; libvirt errors
    /// become gRPC errors that carry libvirt's code.
    ///
    /// While libvirtd does not answer (``LibvirtProbe``) it fails at once with
    /// UNAVAILABLE instead of queueing behind the calls stuck in libvirt.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        if let silent = probe.unanswered {
            throw Refusal(
                .unavailable,
                "libvirtd at \(uri) has not answered for \(Self.seconds(silent)) s (frozen or overloaded); "
                    + "the agent refuses new calls until it answers again (virthost host health)")
        }
        inFlight.add(1, ordering: .relaxed)
        defer { inFlight.subtract(1, ordering: .relaxed) }
        do {
            return try await executor.run { [self] in
                let primary = try self.current()
                let connection = try self.callConnection(primary: primary)
                do {
                    return try body(connection)
                } catch let error as LibvirtError where Self.mayBeConnectionFailure(error) {
                    try self.checkAfterFailure(connection, primary: primary, error)
                    throw error
                }
            }
        } catch let error as LibvirtError {
            throw ErrorMapping.rpcError(error)
        }
    }

    /// ``run(_:)`` for callers outside Swift concurrency (the metrics
    /// endpoint's event loop): runs `body` on a libvirt thread and hands
    /// `done` its result there, so nothing waits on the cooperative pool.
    func execute<T: Sendable>(
        _ body: @escaping @Sendable (Connection) throws -> T, done: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        if probe.unanswered != nil {
            return done(.failure(Refusal(.unavailable, "libvirtd at \(uri) does not answer")))
        }
        executor.execute { [self] in
            done(Result {
                let primary = try self.current()
                return try body(try self.callConnection(primary: primary))
            })
        }
    }

    /// ``run(_:)`` for a call about one machine: waits (up to the call's
    /// deadline) while that machine already has its share of libvirt threads.
    func run<T: Sendable>(machine: ObjectRef, _ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await machineGate.run(key: machine.key, until: CallDeadline.current?.instant) {
            try await run(body)
        }
    }

    /// The connection a call runs on: this worker thread's own.
    ///
    /// libvirt 9.0's client serializes the calls of one connection through
    /// one socket loop: while one thread waits on a reply that does not come
    /// (a machine whose QEMU is frozen holds its call for up to 30 s), calls
    /// from other threads on the same connection were seen to wait 5-15 s
    /// for their turn (also from plain C). So each worker thread opens its
    /// own connection (no keepalive), replaced when the primary one is
    /// replaced after a reconnect or when it died; the primary one keeps the
    /// events, the close callback and the reconnect logic. libvirt's
    /// in-process test driver has no socket, and a `test:///FILE` host is
    /// private to the connection that loaded it: there every call uses the
    /// primary.
    private func callConnection(primary: Connection) throws -> Connection {
        guard !uri.hasPrefix("test:") else { return primary }
        let slot = Thread.current.threadDictionary
        if let own = slot[Self.threadConnectionKey] as? ThreadConnection, own.primary === primary, own.connection.isAlive {
            return own.connection
        }
        slot[Self.threadConnectionKey] = nil
        let fresh: Connection
        do {
            fresh = try Connection.open(uri)
        } catch let error as LibvirtError {
            throw LibvirtError(
                code: .noConnect, domain: error.domain,  // the client sees UNAVAILABLE
                message: "libvirt at \(uri) is not reachable (the agent keeps retrying): \(error.message)")
        }
        fresh.setKeepAlive(interval: -1, count: 0)
        slot[Self.threadConnectionKey] = ThreadConnection(primary: primary, connection: fresh)
        return fresh
    }

    private static let threadConnectionKey = "virthost.libvirt-connection"

    /// A worker thread's connection and the primary it was opened beside.
    private final class ThreadConnection: NSObject {
        let primary: Connection
        let connection: Connection
        init(primary: Connection, connection: Connection) {
            self.primary = primary
            self.connection = connection
        }
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1f", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    /// Errors a dead connection produces: "End of file while reading data"
    /// (RPC or SYSTEM_ERROR), "client socket is closed" (INTERNAL), "Cannot
    /// write data: Broken pipe" (SYSTEM_ERROR), NO_CONNECT, INVALID_CONN.
    static func mayBeConnectionFailure(_ error: LibvirtError) -> Bool {
        [.internalError, .noConnect, .invalidConnection, .systemError, .rpc].contains(error.code)
    }

    /// After a suspicious failure, checks the connection on the same thread
    /// (the failing call's error is already copied): when it is closed or a
    /// probe fails too, the connection is dropped (a background task
    /// reconnects) and the caller gets UNAVAILABLE.
    private func checkAfterFailure(_ connection: Connection, primary: Connection, _ error: LibvirtError) throws {
        if connection.isAlive, (try? connection.libVersion()) != nil { return }
        // This thread opens a new one next time; the primary is dropped (and
        // reconnected in the background) when it is the one, or dead too.
        if connection !== primary { Thread.current.threadDictionary[Self.threadConnectionKey] = nil }
        if connection === primary || !primary.isAlive {
            drop(primary, reason: "the connection to libvirt was lost: \(error.message)")
        }
        throw LibvirtError(
            code: .noConnect, domain: error.domain,  // the client sees UNAVAILABLE
            message: "the connection to libvirt at \(uri) was lost (\(error.message)); the agent is reconnecting")
    }

    /// Opens the connection now, so a bad URI stops the daemon at start.
    public func connect() async throws {
        _ = try await run { _ in () }
        probe.start()
    }

    /// Stops reconnecting and drops the connection (agent shutdown).
    public func close() {
        probe.stop()
        let (subscription, connection) = lock.withLock {
            stopped = true
            defer {
                self.subscription = nil
                self.connection = nil
                lock.broadcast()
            }
            return (self.subscription, self.connection)
        }
        subscription?.cancel()
        withExtendedLifetime(connection) {}
    }

    /// The connection's state, for health reports.
    public struct State: Sendable {
        public var connected: Bool
        public var reconnects: Int
        public var lastError: String
    }

    public func state() -> State {
        let (connection, opens, lastError) = lock.withLock { (self.connection, self.opens, self.lastError) }
        return State(connected: connection?.isAlive ?? false, reconnects: max(opens - 1, 0), lastError: lastError)
    }

    // MARK: Opening

    /// The open connection, opening one first when there is none or it died.
    /// Runs on a libvirt thread.
    private func current() throws -> Connection {
        if let connection = currentOrWaitForOpen() {
            if connection.isAlive { return connection }
            drop(connection, reason: "libvirt closed the connection")
        }
        return try openOrFail()
    }

    /// The current connection; while another thread is opening one, waits
    /// for it up to ``openWait``.
    private func currentOrWaitForOpen() -> Connection? {
        lock.lock()
        defer { lock.unlock() }
        let deadline = Date().addingTimeInterval(Self.openWait)
        while connection == nil, opening, !stopped, lock.wait(until: deadline) {}
        return connection
    }

    /// Opens and installs a connection. Throws UNAVAILABLE (NO_CONNECT) when
    /// the open fails, when another thread is still opening, or at shutdown.
    private func openOrFail() throws -> Connection {
        enum Claim { case open, use(Connection), busy(String), stopped }
        let claim: Claim = lock.withLock {
            if stopped { return .stopped }
            if let connection { return .use(connection) }  // another thread just opened it
            if opening { return .busy(lastError) }
            opening = true
            return .open
        }
        switch claim {
        case .use(let connection): return connection
        case .stopped: throw LibvirtError(code: .noConnect, domain: .none, message: "the agent is shutting down")
        case .busy(let last):
            throw LibvirtError(
                code: .noConnect, domain: .none,  // the client sees UNAVAILABLE
                message: "libvirt at \(uri) is not reachable yet (the agent is reconnecting)"
                    + (last.isEmpty ? "" : ": \(last)"))
        case .open: break
        }
        do {
            return try openAndInstall()
        } catch {
            let libvirtError = error as? LibvirtError
            let message = libvirtError?.message ?? "\(error)"
            lock.withLock {
                opening = false
                lastError = message
                scheduleReconnectLocked()
                lock.broadcast()
            }
            throw LibvirtError(
                code: .noConnect, domain: libvirtError?.domain ?? .none,  // the client sees UNAVAILABLE
                message: "libvirt at \(uri) is not reachable (the agent keeps retrying): \(message)")
        }
    }

    /// Opens a connection, arms keepalive and the close callback, registers
    /// the events, then makes it the current one. The caller holds `opening`;
    /// this clears it.
    private func openAndInstall() throws -> Connection {
        let fresh = try Connection.open(uri)
        // No keepalive on this connection: libvirt 9.0's client crashes the
        // process when keepalive gives up on a hung daemon while several
        // threads have calls on one connection, and the daemon later answers
        // (see LibvirtProbe). A dead daemon still shows up as end of file at
        // once; a hung one is told by the probe, and calls end at their deadline.
        fresh.setKeepAlive(interval: -1, count: 0)
        // Runs on the binding's close queue, outside libvirt's callback.
        try? fresh.onClose { [weak self, weak fresh] reason in
            guard let self, let fresh else { return }
            self.drop(fresh, reason: "libvirt closed the connection (\(reason))")
        }
        var subscription: EventSubscription?
        do {
            let (events, caches) = (self.events, listCaches)
            subscription = try fresh.subscribeEvents { event in
                caches.note(event)
                events.publish(event)
            }
        } catch {
            logger.warning("libvirt events unavailable", metadata: ["uri": "\(uri)", "error": "\(error)"])
        }
        let installed: Int? = lock.withLock {
            opening = false
            defer { lock.broadcast() }
            guard !stopped else { return nil }
            connection = fresh
            self.subscription = subscription
            opens += 1
            // libvirtd may have restarted, and probed every pool again.
            // Without events a refresh would go unseen: nothing is reused.
            listCaches.poolEpochs.advanceAll(watching: subscription != nil)
            lastError = ""
            if opens > 1 { events.publish(kind: .system, type: "libvirt-reconnected", detail: uri) }
            return opens
        }
        guard let installed else {
            subscription?.cancel()
            throw LibvirtError(code: .noConnect, domain: .none, message: "the agent is shutting down")
        }
        // The probe's last failure (a daemon that was gone) is history now.
        probe.noteAnswered()
        if installed > 1 {
            logger.notice("reconnected to libvirt", metadata: ["uri": "\(uri)", "reconnects": "\(installed - 1)"])
        } else {
            logger.info("connected to libvirt", metadata: ["uri": "\(uri)"])
        }
        // Closed while being set up: its close callback may have run before
        // it was current, and so done nothing.
        if !fresh.isAlive { drop(fresh, reason: "libvirt closed the connection while it was being opened") }
        return fresh
    }

    // MARK: Losing it

    /// Forgets `dead` if it is still the current connection and reconnects
    /// in the background. Its event registrations are cancelled here, after
    /// the lock is released. Safe to call twice and from any thread but
    /// libvirt's own callbacks.
    private func drop(_ dead: Connection, reason: String) {
        let (wasCurrent, subscription): (Bool, EventSubscription?) = lock.withLock {
            guard connection === dead else { return (false, nil) }
            let subscription = self.subscription
            self.subscription = nil
            connection = nil
            lastError = reason
            // Published under the lock so it comes before any "reconnected".
            events.publish(kind: .system, type: "libvirt-disconnected", detail: reason)
            scheduleReconnectLocked()
            return (true, subscription)
        }
        guard wasCurrent else { return }
        logger.warning("libvirt connection lost", metadata: ["uri": "\(uri)", "reason": "\(reason)"])
        subscription?.cancel()
    }

    /// Reconnects in the background with backoff (``firstBackoff`` doubling
    /// to ``maximumBackoff``), so events flow again without waiting for a call.
    private func scheduleReconnectLocked() {
        guard !reconnecting, !stopped else { return }
        reconnecting = true
        Task { [weak self] in
            var delay = Self.firstBackoff
            while true {
                try? await Task.sleep(for: .seconds(delay))
                guard let self else { return }
                let done = (try? await self.executor.run { [self] in self.reconnectAttempt() }) ?? false
                if done { return }
                delay = min(delay * 2, Self.maximumBackoff)
            }
        }
    }

    /// One background attempt; true when the task may end, which is decided
    /// under the lock so that a drop racing with the end is not lost.
    private func reconnectAttempt() -> Bool {
        let needed = lock.withLock { !stopped && connection == nil && !opening }
        if needed {
            do {
                _ = try openOrFail()
            } catch {
                // Recorded in lastError by openOrFail.
            }
        }
        return lock.withLock {
            guard stopped || connection != nil else { return false }
            reconnecting = false
            return true
        }
    }
}
