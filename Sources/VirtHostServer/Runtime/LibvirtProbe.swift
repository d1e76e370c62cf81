import Foundation
import Libvirt
import Logging
import Synchronization

/// Tells a libvirtd that answers from one that does not (frozen, stopped
/// with SIGSTOP, overloaded): one cheap call a second on a connection of its
/// own, on a thread of its own, watched by the ``DeadlineSweeper``.
///
/// Why not libvirt's keepalive: with keepalive on a connection that several
/// threads use, libvirt 9.0's client crashes the process when a hung daemon
/// answers again (a socket watch left pointing into a returned thread's
/// stack, `virNetClientIOEventLoop`; reproduced with a plain C client, see
/// the commit that removed it). This probe's connection has one user, so no
/// call ever hands libvirt's event loop to another thread.
///
/// A probe that has waited ``threshold`` marks libvirt unresponsive (an
/// event, GetHealth, the metrics) and ``HypervisorConnection`` then refuses
/// new calls at once; the blocked probe returns the moment libvirtd answers
/// again, so the agent serves again within milliseconds of that.
final class LibvirtProbe: Sendable {
    /// How long a probe may go unanswered before libvirt counts as unresponsive.
    let threshold: Duration
    /// The pause between probes.
    let interval: Duration
    private let uri: String
    private let events: EventHub
    private let logger: Logger

    private struct State {
        /// Since when the current unanswered probe has waited, once past the threshold.
        var unresponsiveSince: ContinuousClock.Instant?
        /// Why the last probe failed at once (the daemon is gone), nil after one that answered.
        var failure: String?
        var stopped = false
        var started = false
    }

    private let state = Mutex(State())

    init(
        uri: String, events: EventHub, logger: Logger, threshold: Duration = .seconds(2), interval: Duration = .seconds(1)
    ) {
        self.uri = uri
        self.events = events
        self.logger = logger
        self.threshold = threshold
        self.interval = interval
    }

    /// How long libvirtd has not answered, or nil while it answers.
    var unanswered: Duration? {
        state.withLock { $0.unresponsiveSince }.map { ContinuousClock.now - $0 }
    }

    /// Why the last probe failed at once (libvirtd not running, its socket
    /// refused), or nil when it answered.
    var failure: String? { state.withLock { $0.failure } }

    /// Starts probing (once); libvirt's in-process test driver cannot hang and is not probed.
    func start() {
        guard !uri.hasPrefix("test:") else { return }
        let first = state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        guard first else { return }
        let thread = Thread { [self] in loop() }
        thread.name = "libvirt-probe"
        thread.start()
    }

    /// libvirtd answered on another connection (the agent reconnected): a
    /// failure the probe saw before is no longer news.
    func noteAnswered() {
        state.withLock { $0.failure = nil }
    }

    func stop() {
        state.withLock { $0.stopped = true }
    }

    private func loop() {
        var connection: Connection?
        while !state.withLock({ $0.stopped }) {
            let started = ContinuousClock.now
            let watchdog = DeadlineSweeper.shared.register(deadline: started + threshold) { [self] in
                markUnresponsive(since: started)
            }
            do {
                if connection == nil { connection = try Connection.open(uri) }
                _ = try connection?.libVersion()
                DeadlineSweeper.shared.cancel(watchdog)
                state.withLock { $0.failure = nil }
                markResponsive()
            } catch {
                let message = (error as? LibvirtError)?.message ?? "\(error)"
                state.withLock { $0.failure = message }
                // A daemon that is gone answers at once (refused, end of
                // file): that is the main connection's business (UNAVAILABLE
                // and reconnects), not unresponsiveness. Open afresh next time.
                DeadlineSweeper.shared.cancel(watchdog)
                connection = nil
                markResponsive()
            }
            Thread.sleep(forTimeInterval: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)
        }
    }

    private func markUnresponsive(since: ContinuousClock.Instant) {
        let changed = state.withLock { state -> Bool in
            guard state.unresponsiveSince == nil else { return false }
            state.unresponsiveSince = since
            return true
        }
        guard changed else { return }
        let detail = "libvirtd at \(uri) has not answered for \(threshold); new calls are refused until it answers"
        logger.warning("libvirt unresponsive", metadata: ["uri": "\(uri)"])
        events.publish(kind: .system, type: "libvirt-unresponsive", detail: detail)
    }

    private func markResponsive() {
        let since = state.withLock { state -> ContinuousClock.Instant? in
            defer { state.unresponsiveSince = nil }
            return state.unresponsiveSince
        }
        guard let since else { return }
        let silent = ContinuousClock.now - since
        logger.notice("libvirt answers again", metadata: ["uri": "\(uri)", "silent": "\(silent)"])
        events.publish(kind: .system, type: "libvirt-responsive", detail: "libvirtd at \(uri) answers again (it had not answered for \(silent))")
    }
}
