import Foundation
import Glibc
import Logging
import ServiceLifecycle
import Testing
import VirtHostClient
import VirtHostServer

/// Metrics: calls counted per method, errors by code, latency histograms, the
/// libvirt connection and event watchers, served over HTTP in Prometheus' text
/// format, as virthostd runs them (agent and metrics server in one ServiceGroup).
@Suite struct MetricsTests {
    @Test func countsCallsErrorsAndLatencyOverHTTP() async throws {
        try await withMetricsAgent { client, port in
            _ = try await client.version()
            _ = try await client.version()
            _ = try await client.listDomains()
            let missing = await DaemonHarness.error { _ = try await client.domain("no-such-vm") }
            #expect(missing?.code == .notFound)
            let invalid = await DaemonHarness.error { _ = try await client.domain("") }
            #expect(invalid?.code == .invalidArgument)

            let (status, headers, body) = try HTTP.get(port: port, path: "/metrics")
            #expect(status == 200)
            #expect(headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            let samples = Exposition(body)
            #expect(samples["virthost_calls_total", ["service": "virthost.v1.HostService", "method": "GetVersion"]] == 2)
            #expect(samples["virthost_calls_total", ["service": "virthost.v1.DomainService", "method": "ListDomains"]] == 1)
            #expect(samples["virthost_calls_total", ["service": "virthost.v1.DomainService", "method": "GetDomain"]] == 2)
            #expect(
                samples["virthost_call_errors_total", ["service": "virthost.v1.DomainService", "method": "GetDomain", "code": "NOT_FOUND"]] == 1)
            #expect(
                samples["virthost_call_errors_total", ["service": "virthost.v1.DomainService", "method": "GetDomain", "code": "INVALID_ARGUMENT"]]
                    == 1)
            // Successful calls are not errors.
            #expect(samples["virthost_call_errors_total", ["service": "virthost.v1.HostService", "method": "GetVersion", "code": "OK"]] == nil)
            let version = ["service": "virthost.v1.HostService", "method": "GetVersion"]
            #expect(samples["virthost_call_duration_seconds_count", version] == 2)
            #expect(samples["virthost_call_duration_seconds_bucket", version.merging(["le": "+Inf"]) { $1 }] == 2)
            #expect((samples["virthost_call_duration_seconds_sum", version] ?? 0) > 0)
            #expect(samples["virthost_calls_in_flight", [:]] == 0)
            #expect(samples["virthost_libvirt_connected", [:]] == 1)
            #expect(samples["virthost_event_watchers", [:]] == 0)
            #expect(samples["virthost_build_info", ["version": DaemonVersion.current, "libvirt_library": "9.9.9"]] == 1)
            #expect(body.contains("# HELP virthost_calls_total "))
            #expect(body.contains("# TYPE virthost_call_duration_seconds histogram"))

            // A second scrape sees the calls made since.
            _ = try await client.version()
            let again = Exposition(try HTTP.get(port: port, path: "/metrics").body)
            #expect(again["virthost_calls_total", version] == 3)
        }
    }

    @Test func eventWatchersAreCounted() async throws {
        try await withMetricsAgent { client, port in
            let watcher = Task { try await client.watchEvents { _ in } }
            defer { watcher.cancel() }
            var watchers: Double?
            for _ in 0..<50 {
                watchers = Exposition(try HTTP.get(port: port, path: "/metrics").body)["virthost_event_watchers", [:]]
                if watchers == 1 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(watchers == 1)
            // The open stream is a call in flight.
            #expect(Exposition(try HTTP.get(port: port, path: "/metrics").body)["virthost_calls_in_flight", [:]] == 1)
            watcher.cancel()
            _ = await watcher.result
            var after: Double?
            for _ in 0..<50 {
                after = Exposition(try HTTP.get(port: port, path: "/metrics").body)["virthost_event_watchers", [:]]
                if after == 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(after == 0)
            // The watcher count drops when the subscription ends, a moment
            // before the stream's producer returns and the call is timed.
            var samples = Exposition(try HTTP.get(port: port, path: "/metrics").body)
            for _ in 0..<50 where samples["virthost_calls_in_flight", [:]] != 0 {
                try await Task.sleep(for: .milliseconds(100))
                samples = Exposition(try HTTP.get(port: port, path: "/metrics").body)
            }
            #expect(samples["virthost_calls_total", ["service": "virthost.v1.EventService", "method": "Watch"]] == 1)
            // Timed until the stream ended.
            #expect(samples["virthost_call_duration_seconds_count", ["service": "virthost.v1.EventService", "method": "Watch"]] == 1)
            #expect(samples["virthost_calls_in_flight", [:]] == 0)
        }
    }

    @Test func otherPathsAndMethodsAreRefused() async throws {
        try await withMetricsAgent { _, port in
            #expect(try HTTP.get(port: port, path: "/").status == 404)
            #expect(try HTTP.get(port: port, path: "/metrics/x").status == 404)
            #expect(try HTTP.get(port: port, path: "/metrics?name[]=x").status == 200)
            let (status, headers, _) = try HTTP.request("POST", port: port, path: "/metrics")
            #expect(status == 405)
            #expect(headers["allow"] == "GET, HEAD")
            let head = try HTTP.request("HEAD", port: port, path: "/metrics")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
        }
    }

    @Test func aPortInUseIsRefusedClearly() async throws {
        try await withMetricsAgent { _, port in
            let second = MetricsServer(
                endpoint: MetricsEndpoint("127.0.0.1:\(port)")!, metrics: DaemonMetrics(), hypervisor: nil)
            do {
                try await second.run()
                Issue.record("a second server bound the same port")
            } catch let refusal as SocketFile.Refusal {
                #expect(refusal.description.contains("cannot serve metrics on 127.0.0.1:\(port)"))
            }
        }
    }

    @Test func endpoints() {
        #expect(MetricsEndpoint("127.0.0.1:9479") == MetricsEndpoint("127.0.0.1:9479"))
        #expect(MetricsEndpoint("127.0.0.1:9479")?.port == 9479)
        #expect(MetricsEndpoint("[::1]:9479")?.host == "::1")
        #expect(MetricsEndpoint("[::1]:9479")?.description == "[::1]:9479")
        #expect(MetricsEndpoint("0.0.0.0:0")?.port == 0)
        for bad in ["", "127.0.0.1", ":9479", "localhost:9479", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+80", "::1:9479",
            "[::1]9479", "127.0.0.1:80:80", "300.0.0.1:80"]
        {
            #expect(MetricsEndpoint(bad) == nil, "\(bad) was accepted")
        }
    }

    @Test func configurationFile() throws {
        let on = try DaemonConfiguration.parse("[metrics]\naddress = \"127.0.0.1:9479\"\n")
        #expect(on.metricsAddress == MetricsEndpoint("127.0.0.1:9479"))
        #expect(try DaemonConfiguration.parse("[metrics]\naddress = \"\"\n").metricsAddress == nil)
        #expect(try DaemonConfiguration.parse("").metricsAddress == nil)
        do {
            _ = try DaemonConfiguration.parse("connect = \"test:///default\"\n[metrics]\naddress = \"everywhere\"\n", path: "x.toml")
            Issue.record("a bad metrics address was accepted")
        } catch let invalid as DaemonConfiguration.Invalid {
            #expect(invalid.description.hasPrefix("x.toml:3: metrics.address: expected an IP address and a port"))
        }
        // The packaged default file documents the section and leaves metrics off.
        let packaged = try DaemonConfiguration.load(path: DaemonHarness.repoRoot.appendingPathComponent("packaging/virthostd.toml").path)
        #expect(packaged.metricsAddress == nil)
    }

    /// Runs an agent on the demo host with metrics, and its metrics server on
    /// a free loopback port, in one ServiceGroup as virthostd does.
    func withMetricsAgent(_ body: (VirtHostClient, Int) async throws -> Void) async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = DaemonSettings(libvirtURI: DaemonHarness.demoURI, socketPath: folder + "/agent.sock", socketMode: 0o600)
        let metrics = DaemonMetrics(libvirtLibrary: "9.9.9")
        configuration.metrics = metrics
        var logger = Logger(label: "test-metrics")
        logger.logLevel = .warning
        let (ready, readyContinuation) = AsyncStream<Int>.makeStream()
        let agent = try Daemon(configuration: configuration, logger: logger, onReady: { _ in readyContinuation.yield(-1) })
        let server = MetricsServer(
            endpoint: MetricsEndpoint("127.0.0.1:0")!, metrics: metrics, hypervisor: agent.hypervisor, logger: logger,
            onReady: { readyContinuation.yield($0) })
        let group = ServiceGroup(services: [agent, server], logger: logger)
        let running = Task { try await group.run() }
        var port = 0
        var agentReady = false
        for await value in ready {
            if value < 0 { agentReady = true } else { port = value }
            if agentReady && port > 0 { break }
        }
        let client = try VirtHostClient(socketPath: configuration.socketPath, wire: .grpc)
        let result: Result<Void, any Error>
        do {
            try await body(client, port)
            result = .success(())
        } catch {
            result = .failure(error)
        }
        await client.shutdown()
        await group.triggerGracefulShutdown()
        try await running.value
        try result.get()
    }
}

/// Samples of a Prometheus text exposition, looked up by name and labels.
struct Exposition {
    var samples: [(name: String, labels: [String: String], value: Double)] = []

    init(_ text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            var labels: [String: String] = [:]
            var name = String(series)
            if let open = series.firstIndex(of: "{"), series.hasSuffix("}") {
                name = String(series[..<open])
                let inner = series[series.index(after: open)..<series.index(before: series.endIndex)]
                // Label values here hold no commas or quotes.
                for pair in inner.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
                }
            }
            samples.append((name, labels, value))
        }
    }

    subscript(name: String, labels: [String: String]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }
}

/// A blocking HTTP/1.1 client for loopback tests: one request per connection.
enum HTTP {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static func get(port: Int, path: String) throws -> (status: Int, headers: [String: String], body: String) {
        try request("GET", port: port, path: path)
    }

    static func request(_ method: String, port: Int, path: String) throws -> (status: Int, headers: [String: String], body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect to port \(port): errno \(errno)") }
        let text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        _ = text.withCString { send(fd, $0, strlen($0), 0) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        let response = String(decoding: received, as: UTF8.self)
        guard let split = response.range(of: "\r\n\r\n") else { throw Failure(description: "no HTTP response: \(response)") }
        let lines = response[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failure(description: "bad status line \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers, String(response[split.upperBound...]))
    }
}
