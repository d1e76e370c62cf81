import CoreMetrics
import Foundation
import Prometheus
import Synchronization

/// The agent's metrics, recorded through swift-metrics and exported in
/// Prometheus' text format by swift-prometheus.
///
/// Every call is counted by ``MetricsInterceptor``; the libvirt connection and
/// the event watchers are read when the metrics are rendered, so a scrape
/// always sees their state at that moment. One instance per agent: it owns its
/// registry, so agents in one process (tests) do not share numbers, and
/// nothing is bootstrapped process-wide.
///
/// What is exported (every name starts with `virthost_`):
///
/// | name | type | labels |
/// |---|---|---|
/// | `virthost_calls_total` | counter | `service`, `method` |
/// | `virthost_call_errors_total` | counter | `service`, `method`, `code` (e.g. `NOT_FOUND`) |
/// | `virthost_call_duration_seconds` | histogram | `service`, `method` |
/// | `virthost_calls_in_flight` | gauge | |
/// | `virthost_libvirt_connected` | gauge (1 or 0) | |
/// | `virthost_libvirt_reconnects_total` | counter | |
/// | `virthost_event_watchers` | gauge | |
/// | `virthost_libvirt_responsive` | gauge (1 or 0) | |
/// | `virthost_libvirt_silent_seconds` | gauge | |
/// | `virthost_libvirt_threads` | gauge | |
/// | `virthost_libvirt_stuck_threads` | gauge | |
/// | `virthost_libvirt_replaced_threads_total` | counter | |
/// | `virthost_build_info` | gauge (always 1) | `version`, `libvirt_library` |
/// | `virthost_start_time_seconds` | gauge | |
public final class DaemonMetrics: Sendable {
    /// The Prometheus registry everything is recorded into.
    public let registry: PrometheusCollectorRegistry
    let factory: DescribedPrometheusFactory

    private let inFlight: CoreMetrics.Meter
    private let connected: CoreMetrics.Meter
    private let reconnects: CoreMetrics.Counter
    private let watchers: CoreMetrics.Meter
    private let responsive: CoreMetrics.Meter
    private let silent: CoreMetrics.Meter
    private let threads: CoreMetrics.Meter
    private let stuck: CoreMetrics.Meter
    private let replaced: CoreMetrics.Counter
    private let replacedSeen = Mutex<Int>(0)
    private let startTime: CoreMetrics.Meter
    private let perMethod = Mutex<[String: MethodMetrics]>([:])
    private let errors = Mutex<[String: CoreMetrics.Counter]>([:])
    private let reconnectsSeen = Mutex<Int>(0)

    /// Call latency buckets, in seconds: unary calls take about a millisecond
    /// on a Unix socket, libvirt calls up to seconds, event streams as long as
    /// a watcher stays.
    public static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    static let help: [String: String] = [
        "virthost_calls_total": "gRPC calls received, per method (denied and failed ones included).",
        "virthost_call_errors_total": "gRPC calls that ended with a status other than OK, per method and status code.",
        "virthost_call_duration_seconds": "Time from a call's arrival to its last response message, per method.",
        "virthost_calls_in_flight": "gRPC calls running now.",
        "virthost_libvirt_connected": "1 when the agent's libvirt connection is open and alive, else 0.",
        "virthost_libvirt_reconnects_total": "Times the agent opened its libvirt connection again after losing it.",
        "virthost_event_watchers": "EventService.Watch streams open now.",
        "virthost_libvirt_responsive": "0 while libvirtd has not answered the agent's probe for over 2 s (frozen or overloaded), else 1.",
        "virthost_libvirt_silent_seconds": "How long libvirtd has not answered the agent's probe; 0 while it answers.",
        "virthost_libvirt_threads": "Threads that may block in libvirt, stuck ones included.",
        "virthost_libvirt_stuck_threads": "Threads stuck in a libvirt call whose caller gave up.",
        "virthost_libvirt_replaced_threads_total": "Threads started to replace stuck ones.",
        "virthost_build_info": "Always 1; the labels name the agent's version and the libvirt library it runs with.",
        "virthost_start_time_seconds": "When the agent started, in seconds since the Unix epoch.",
    ]

    /// - Parameters:
    ///   - version: the agent's version, for `virthost_build_info`.
    ///   - libvirtLibrary: the libvirt library's version, for `virthost_build_info`.
    public init(version: String = DaemonVersion.current, libvirtLibrary: String = "") {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        let factory = DescribedPrometheusFactory(
            registry: registry, help: Self.help,
            buckets: ["virthost_call_duration_seconds": Self.latencyBuckets])
        self.factory = factory
        inFlight = CoreMetrics.Meter(label: "virthost_calls_in_flight", factory: factory)
        connected = CoreMetrics.Meter(label: "virthost_libvirt_connected", factory: factory)
        reconnects = CoreMetrics.Counter(label: "virthost_libvirt_reconnects_total", factory: factory)
        watchers = CoreMetrics.Meter(label: "virthost_event_watchers", factory: factory)
        responsive = CoreMetrics.Meter(label: "virthost_libvirt_responsive", factory: factory)
        silent = CoreMetrics.Meter(label: "virthost_libvirt_silent_seconds", factory: factory)
        threads = CoreMetrics.Meter(label: "virthost_libvirt_threads", factory: factory)
        stuck = CoreMetrics.Meter(label: "virthost_libvirt_stuck_threads", factory: factory)
        replaced = CoreMetrics.Counter(label: "virthost_libvirt_replaced_threads_total", factory: factory)
        startTime = CoreMetrics.Meter(label: "virthost_start_time_seconds", factory: factory)
        startTime.set(Date().timeIntervalSince1970)
        CoreMetrics.Meter(
            label: "virthost_build_info", dimensions: [("version", version), ("libvirt_library", libvirtLibrary)],
            factory: factory
        ).set(1)
    }

    /// The counters and histogram of one method.
    struct MethodMetrics: Sendable {
        let calls: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
        let dimensions: [(String, String)]
    }

    /// Counts the start of a call; the handle records how it ended.
    func begin(service: String, method: String) -> MethodMetrics {
        let key = service + "/" + method
        let metrics = perMethod.withLock { table in
            if let known = table[key] { return known }
            let dimensions = [("service", service), ("method", method)]
            let made = MethodMetrics(
                calls: CoreMetrics.Counter(label: "virthost_calls_total", dimensions: dimensions, factory: factory),
                duration: CoreMetrics.Timer(label: "virthost_call_duration_seconds", dimensions: dimensions, factory: factory),
                dimensions: dimensions)
            table[key] = made
            return made
        }
        metrics.calls.increment()
        inFlight.increment(by: 1.0)
        return metrics
    }

    /// Records the end of a call begun with ``begin(service:method:)``;
    /// `code` is nil for OK.
    func end(_ metrics: MethodMetrics, after duration: Duration, code: String?) {
        inFlight.decrement(by: 1.0)
        metrics.duration.recordNanoseconds(Self.nanoseconds(duration))
        guard let code else { return }
        let key = metrics.dimensions.map(\.1).joined(separator: "/") + "/" + code
        let counter = errors.withLock { table in
            if let known = table[key] { return known }
            let made = CoreMetrics.Counter(
                label: "virthost_call_errors_total", dimensions: metrics.dimensions + [("code", code)], factory: factory)
            table[key] = made
            return made
        }
        counter.increment()
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Reads the connection and watcher state into their gauges.
    public func observe(_ hypervisor: HypervisorConnection) {
        let state = hypervisor.state()
        connected.set(state.connected ? 1 : 0)
        let grown = reconnectsSeen.withLock { seen in
            defer { seen = max(seen, state.reconnects) }
            return max(state.reconnects - seen, 0)
        }
        if grown > 0 { reconnects.increment(by: grown) }
        watchers.set(hypervisor.events.watcherCount)
        let unanswered = hypervisor.probe.unanswered
        responsive.set(unanswered == nil ? 1 : 0)
        silent.set(unanswered.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? 0)
        let executor = hypervisor.executor.statistics
        threads.set(executor.threads)
        stuck.set(executor.stuck)
        let more = replacedSeen.withLock { seen in
            defer { seen = max(seen, executor.replaced) }
            return max(executor.replaced - seen, 0)
        }
        if more > 0 { replaced.increment(by: more) }
    }

    /// Everything, in Prometheus' text exposition format (version 0.0.4),
    /// with the hypervisor's state read first when one is given.
    public func render(observing hypervisor: HypervisorConnection? = nil) -> [UInt8] {
        if let hypervisor { observe(hypervisor) }
        return registry.emitToBuffer()
    }
}

/// A swift-metrics backend over a Prometheus registry that also writes each
/// metric's `# HELP` line and takes histogram buckets per metric name.
///
/// swift-prometheus' own `PrometheusMetricsFactory` registers every metric
/// with an empty help text, and its registry refuses one name with two help
/// texts; this factory gives every metric of the agent its description.
struct DescribedPrometheusFactory: CoreMetrics.MetricsFactory {
    let registry: PrometheusCollectorRegistry
    let help: [String: String]
    let buckets: [String: [Duration]]

    /// The metric's full name (the label as given) and its help text.
    func describe(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: help[label] ?? "")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: describe(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: describe(label), labels: dimensions)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: describe(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: describe(label), labels: dimensions) }
        return registry.makeValueHistogram(
            descriptor: describe(label), labels: dimensions, buckets: [0.001, 0.01, 0.1, 1, 10, 100, 1000])
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            descriptor: describe(label), labels: dimensions, buckets: buckets[label] ?? DaemonMetrics.latencyBuckets)
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
