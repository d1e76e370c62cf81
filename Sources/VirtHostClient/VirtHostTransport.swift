import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import TTRPC

/// The wire a ``VirtHostClient`` speaks to the agent.
public enum VirtHostWire: String, Sendable, CaseIterable {
    /// gRPC over HTTP/2: the agent's main socket.
    case grpc
    /// containerd's ttrpc: the agent's `--ttrpc-socket`, leaner per call.
    case ttrpc

    /// `$VIRTHOST_TRANSPORT` when it names a wire, else gRPC.
    public static var `default`: VirtHostWire { named(in: ProcessInfo.processInfo.environment) ?? .grpc }

    /// The wire `$VIRTHOST_TRANSPORT` names in `environment` (any case), if any.
    public static func named(in environment: [String: String]) -> VirtHostWire? {
        environment["VIRTHOST_TRANSPORT"].flatMap { VirtHostWire(rawValue: $0.lowercased()) }
    }
}

/// Either client transport behind one type, so the generated service
/// clients (``VirtHostClient/hosts`` and the rest) work over both.
public struct VirtHostTransport: ClientTransport {
    public typealias Bytes = GRPCNIOTransportBytes

    enum Base: Sendable {
        case http2(HTTP2ClientTransport.Posix)
        case ttrpc(TTRPCClientTransport)
    }

    let base: Base

    /// The wire this transport speaks.
    public var wire: VirtHostWire {
        switch base {
        case .http2: return .grpc
        case .ttrpc: return .ttrpc
        }
    }

    /// How each streaming method of virthost.v1 streams; ttrpc's request
    /// frame has to say so up front. Every other method is unary (a unit
    /// test checks this against the proto's descriptors).
    public static let ttrpcMethodKinds: [String: TTRPCClientTransport.MethodKind] = [
        "virthost.v1.EventService/Watch": .serverStreaming,
        "virthost.v1.GuestAgentService/ExecStream": .serverStreaming,
        "virthost.v1.StorageService/DownloadVolume": .serverStreaming,
        "virthost.v1.StorageService/UploadVolume": .clientStreaming,
    ]

    /// A transport to the agent's socket at `path` speaking `wire`.
    public init(path: String, wire: VirtHostWire) throws {
        switch wire {
        case .grpc:
            // No flush coalescing on a local socket: it delays each write up to
            // 100 us to batch them, which only adds latency here (BENCHMARKS.md).
            var config = HTTP2ClientTransport.Posix.Config.defaults
            config.connection.flushCoalescing = nil
            base = .http2(
                try HTTP2ClientTransport.Posix(
                    target: .unixDomainSocket(path: path), transportSecurity: .plaintext, config: config))
        case .ttrpc:
            base = .ttrpc(TTRPCClientTransport(path: path, methodKinds: Self.ttrpcMethodKinds))
        }
    }

    public var retryThrottle: RetryThrottle? {
        switch base {
        case .http2(let transport): return transport.retryThrottle
        case .ttrpc(let transport): return transport.retryThrottle
        }
    }

    public func connect() async throws {
        switch base {
        case .http2(let transport): try await transport.connect()
        case .ttrpc(let transport): try await transport.connect()
        }
    }

    public func beginGracefulShutdown() {
        switch base {
        case .http2(let transport): transport.beginGracefulShutdown()
        case .ttrpc(let transport): transport.beginGracefulShutdown()
        }
    }

    public func withStream<T: Sendable>(
        descriptor: MethodDescriptor, options: CallOptions,
        _ closure: (RPCStream<Inbound, Outbound>, ClientContext) async throws -> T
    ) async throws -> T {
        switch base {
        case .http2(let transport): return try await transport.withStream(descriptor: descriptor, options: options, closure)
        case .ttrpc(let transport): return try await transport.withStream(descriptor: descriptor, options: options, closure)
        }
    }

    public func config(forMethod descriptor: MethodDescriptor) -> MethodConfig? {
        switch base {
        case .http2(let transport): return transport.config(forMethod: descriptor)
        case .ttrpc(let transport): return transport.config(forMethod: descriptor)
        }
    }
}
