import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Where the metrics endpoint listens: an IP address and a TCP port
/// (`127.0.0.1:9479`, `[::1]:9479`; port 0 picks a free one).
public struct MetricsEndpoint: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int

    /// What a valid endpoint looks like, for error messages.
    public static let expectation = "expected an IP address and a port, like 127.0.0.1:9479 or [::1]:9479"

    /// Parses `HOST:PORT` with a literal IPv4 or bracketed IPv6 address; nil when malformed.
    public init?(_ text: String) {
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            host = parts[0]
            port = parts[1]
        }
        guard let number = Int(port), (0...65535).contains(number), !port.hasPrefix("+"),
            (try? SocketAddress(ipAddress: String(host), port: number)) != nil
        else { return nil }
        self.host = String(host)
        self.port = number
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Serves ``DaemonMetrics`` over HTTP/1.1 at `GET /metrics`, in Prometheus'
/// text format, until the service group shuts down.
///
/// Any other path answers 404, any other method 405. It binds only where it
/// is told: the default configuration leaves it off, and `127.0.0.1` keeps
/// it on the host.
public final class MetricsServer: Service, Sendable {
    public let endpoint: MetricsEndpoint
    let metrics: DaemonMetrics
    let hypervisor: HypervisorConnection?
    let logger: Logger
    let onReady: @Sendable (Int) -> Void

    /// - Parameters:
    ///   - hypervisor: read at each scrape for the connection and watcher gauges.
    ///   - onReady: called with the bound port once it accepts connections.
    public init(
        endpoint: MetricsEndpoint, metrics: DaemonMetrics, hypervisor: HypervisorConnection?,
        logger: Logger = Logger(label: "virthost-metrics"), onReady: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.endpoint = endpoint
        self.metrics = metrics
        self.hypervisor = hypervisor
        self.logger = logger
        self.onReady = onReady
    }

    public func run() async throws {
        // Per-machine series are read on a libvirt thread, neither on the
        // event loop nor through the Swift concurrency pool.
        let render: @Sendable (@escaping @Sendable ([UInt8]) -> Void) -> Void = { [metrics, hypervisor] done in
            let body = metrics.render(observing: hypervisor)
            guard let hypervisor else { return done(body) }
            MachineMetrics.read(hypervisor) { stats in done(body + Array(MachineMetrics.render(stats).utf8)) }
        }
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                do {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(60)))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(render: render))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: endpoint.host, port: endpoint.port).get()
        } catch {
            throw SocketFile.Refusal(description: "cannot serve metrics on \(endpoint): \(error)")
        }
        let port = channel.localAddress?.port ?? endpoint.port
        logger.info("serving metrics", metadata: ["address": "http://\(endpoint.host.contains(":") ? "[\(endpoint.host)]" : endpoint.host):\(port)/metrics"])
        onReady(port)
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

/// Answers one HTTP request at a time on a connection (NIO's pipelining
/// helper queues the rest).
final class MetricsHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let render: @Sendable (@escaping @Sendable ([UInt8]) -> Void) -> Void
    private var head: HTTPRequestHead?

    init(render: @escaping @Sendable (@escaping @Sendable ([UInt8]) -> Void) -> Void) {
        self.render = render
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break  // a scrape has no body; ignore one
        case .end:
            guard let head else { return }
            self.head = nil
            respond(context: context, to: head)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func respond(context: ChannelHandlerContext, to request: HTTPRequestHead) {
        let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        var headers = HTTPHeaders()
        if request.method != .GET && request.method != .HEAD {
            headers.add(name: "Allow", value: "GET, HEAD")
            send(context: context, to: request, .methodNotAllowed, headers, Array("only GET and HEAD are served\n".utf8))
        } else if path == "/metrics" {
            // The machine series need libvirt: render off the event loop, answer on it.
            let promise = context.eventLoop.makePromise(of: [UInt8].self)
            render { promise.succeed($0) }
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { body in
                let (handler, context) = loopBound.value
                handler.send(context: context, to: request, .ok, headers, body)
            }
        } else {
            send(context: context, to: request, .notFound, headers, Array("virthostd serves its metrics at /metrics\n".utf8))
        }
    }

    private func send(
        context: ChannelHandlerContext, to request: HTTPRequestHead, _ status: HTTPResponseStatus, _ headers: HTTPHeaders,
        _ body: [UInt8]
    ) {
        var headers = headers
        headers.add(name: "Content-Type", value: status == .ok ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(body.count)")
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            done.whenComplete { _ in loopBound.value.close(promise: nil) }
        }
    }
}
