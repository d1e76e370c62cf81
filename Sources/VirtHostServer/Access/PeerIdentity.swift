import CVirtHostSys
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import NIOHPACK
import NIOHTTP2
import Synchronization

/// Who is calling, as the kernel says (SO_PEERCRED on the Unix socket).
public struct PeerIdentity: Sendable, Equatable, CustomStringConvertible {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: Int32
    /// Primary and supplementary groups of the calling process.
    public var groups: Set<UInt32>
    /// Numbers the connection, for per-connection limits.
    public var connection: UInt64

    public var description: String { "uid \(uid) pid \(pid)" }

    /// Metadata keys the agent sets on every request; whatever a client sends
    /// under them is removed first.
    static let prefix = "virthost-peer-"
    static let uidKey = "virthost-peer-uid"
    static let gidKey = "virthost-peer-gid"
    static let pidKey = "virthost-peer-pid"
    static let groupsKey = "virthost-peer-groups"
    static let connectionKey = "virthost-peer-connection"
    /// The client's deadline, moved here from `grpc-timeout` by the transports:
    /// grpc-swift would time it with a `Task.sleep` per call, which stays
    /// queued (and its memory held) until the deadline even when the call
    /// ended long before; the AccessInterceptor times it instead.
    static let timeoutKey = "virthost-peer-timeout"

    /// Reads the identity the transport put into the request's metadata.
    init?(metadata: Metadata) {
        func value(_ key: String) -> String? {
            for case .string(let text) in metadata[key] { return text }
            return nil
        }
        guard let uid = value(Self.uidKey).flatMap(UInt32.init), let gid = value(Self.gidKey).flatMap(UInt32.init),
            let pid = value(Self.pidKey).flatMap(Int32.init), let connection = value(Self.connectionKey).flatMap(UInt64.init)
        else { return nil }
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.connection = connection
        groups = Set((value(Self.groupsKey) ?? "").split(separator: ",").compactMap { UInt32($0) })
        groups.insert(gid)
    }

    init(uid: UInt32, gid: UInt32, pid: Int32, groups: Set<UInt32>, connection: UInt64) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.groups = groups
        self.connection = connection
    }

    /// The identity as the metadata every request of the connection carries.
    var metadata: Metadata {
        var metadata = Metadata()
        metadata.addString(String(uid), forKey: Self.uidKey)
        metadata.addString(String(gid), forKey: Self.gidKey)
        metadata.addString(String(pid), forKey: Self.pidKey)
        metadata.addString(groups.sorted().map(String.init).joined(separator: ","), forKey: Self.groupsKey)
        metadata.addString(String(connection), forKey: Self.connectionKey)
        return metadata
    }

    /// Supplementary groups of a process, from /proc/PID/status.
    static func supplementaryGroups(pid: Int32) -> Set<UInt32> {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return [] }
        for line in status.split(separator: "\n") where line.hasPrefix("Groups:") {
            return Set(line.dropFirst("Groups:".count).split(separator: " ").compactMap { UInt32($0) })
        }
        return []
    }
}

/// Puts the kernel's view of each caller into every request's metadata.
///
/// On each accepted connection it reads SO_PEERCRED; on each HTTP/2 stream it
/// adds a handler in front of gRPC's that strips any client-sent
/// `virthost-peer-*` header and inserts the connection's uid, gid, groups and
/// pid. These hooks are grpc-swift-nio-transport's channel debugging
/// callbacks, which is why the transport's version is pinned exactly.
final class PeerCredentialStamper: Sendable {
    /// The identity of each open connection, by channel, and the next connection number.
    private let state = Mutex((peers: [ObjectIdentifier: PeerIdentity](), nextConnection: UInt64(1)))

    var callbacks: HTTP2ServerTransport.Config.ChannelDebuggingCallbacks {
        HTTP2ServerTransport.Config.ChannelDebuggingCallbacks(
            onBindTCPListener: nil,
            onAcceptTCPConnection: { [self] channel in self.accepted(channel) },
            onAcceptHTTP2Stream: { [self] stream in self.streamOpened(stream) })
    }

    private func accepted(_ channel: any Channel) -> EventLoopFuture<Void> {
        identify(channel).map { _ in }
    }

    /// Reads a connection's SO_PEERCRED, numbers the connection, and keeps
    /// the identity until the channel closes.
    func identify(_ channel: any Channel) -> EventLoopFuture<PeerIdentity> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(PeerCredentialError.notASocket)
        }
        let level = SocketOptionLevel(SOL_SOCKET)
        let name = SocketOptionName(SO_PEERCRED)
        return provider.unsafeGetSocketOption(level: level, name: name).map { [self] (credentials: virthost_ucred) in
            let key = ObjectIdentifier(channel)
            var groups = PeerIdentity.supplementaryGroups(pid: credentials.pid)
            groups.insert(credentials.gid)
            let peer = state.withLock { state in
                let peer = PeerIdentity(
                    uid: credentials.uid, gid: credentials.gid, pid: credentials.pid, groups: groups,
                    connection: state.nextConnection)
                state.peers[key] = peer
                state.nextConnection += 1
                return peer
            }
            channel.closeFuture.whenComplete { [self] _ in state.withLock { _ = $0.peers.removeValue(forKey: key) } }
            return peer
        }
    }

    /// Largest request message; a bigger one is answered RESOURCE_EXHAUSTED.
    let maxMessageBytes: Int

    init(maxMessageBytes: Int) { self.maxMessageBytes = maxMessageBytes }

    private func streamOpened(_ stream: any Channel) -> EventLoopFuture<Void> {
        let peer = stream.parent.flatMap { parent in state.withLock { $0.peers[ObjectIdentifier(parent)] } }
        return stream.eventLoop.makeCompletedFuture { [maxMessageBytes] in
            // Without an identity the stamper still strips spoofed headers, and
            // the interceptor refuses the call.
            try stream.pipeline.syncOperations.addHandler(
                PeerHeaderHandler(peer: peer, maxMessageBytes: maxMessageBytes), position: .first)
        }
    }
}

enum PeerCredentialError: Error {
    case notASocket
}

/// Sits first on every HTTP/2 stream: rewrites the identity headers, and
/// answers RESOURCE_EXHAUSTED to a request message over the size limit.
///
/// The transport itself would only reset the stream on an oversized message
/// (clients see UNAVAILABLE), so this handler reads the 5-byte gRPC message
/// prefixes as DATA frames pass, and on one that announces too many bytes
/// it stops forwarding, sends a trailers-only status, and closes the stream.
final class PeerHeaderHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let peer: PeerIdentity?
    private let maxMessageBytes: Int
    /// Bytes of the current message still to pass before the next prefix.
    private var remainingInMessage = 0
    /// A prefix split across DATA frames.
    private var prefix: [UInt8] = []
    private var refused = false

    init(peer: PeerIdentity?, maxMessageBytes: Int) {
        self.peer = peer
        self.maxMessageBytes = maxMessageBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refused { return }
        let payload = unwrapInboundIn(data)
        if case .data(let frame) = payload, case .byteBuffer(let buffer) = frame.data {
            if let announced = oversizedMessage(in: buffer) {
                refuse(context: context, announced: announced)
                return
            }
        }
        guard case .headers(var headers) = payload else {
            context.fireChannelRead(data)
            return
        }
        let spoofed = headers.headers.compactMap { $0.name.hasPrefix(PeerIdentity.prefix) ? $0.name : nil }
        for name in Set(spoofed) { headers.headers.remove(name: name) }
        if headers.headers.contains(name: ":path"), let timeout = headers.headers.first(name: "grpc-timeout") {
            headers.headers.remove(name: "grpc-timeout")
            headers.headers.add(name: PeerIdentity.timeoutKey, value: timeout)
        }
        if let peer, headers.headers.contains(name: ":path") {  // request headers, not trailers
            headers.headers.add(name: PeerIdentity.uidKey, value: String(peer.uid))
            headers.headers.add(name: PeerIdentity.gidKey, value: String(peer.gid))
            headers.headers.add(name: PeerIdentity.pidKey, value: String(peer.pid))
            headers.headers.add(name: PeerIdentity.groupsKey, value: peer.groups.sorted().map(String.init).joined(separator: ","))
            headers.headers.add(name: PeerIdentity.connectionKey, value: String(peer.connection))
        }
        context.fireChannelRead(wrapInboundOut(.headers(headers)))
    }

    /// Walks the gRPC length prefixes in `buffer`; the announced length of a
    /// message over the limit, or nil.
    private func oversizedMessage(in buffer: ByteBuffer) -> Int? {
        var view = buffer.readableBytesView[...]
        while !view.isEmpty {
            if remainingInMessage > 0 {
                let skip = min(remainingInMessage, view.count)
                view = view.dropFirst(skip)
                remainingInMessage -= skip
                continue
            }
            let take = min(5 - prefix.count, view.count)
            prefix += view.prefix(take)
            view = view.dropFirst(take)
            guard prefix.count == 5 else { break }
            let length = Int(prefix[1]) << 24 | Int(prefix[2]) << 16 | Int(prefix[3]) << 8 | Int(prefix[4])
            prefix.removeAll(keepingCapacity: true)
            if length > maxMessageBytes { return length }
            remainingInMessage = length
        }
        return nil
    }

    private func refuse(context: ChannelHandlerContext, announced: Int) {
        refused = true
        let message = "the request message of \(announced) bytes is over the agent's limit of \(maxMessageBytes) bytes"
        var trailers = HPACKHeaders()
        trailers.add(name: ":status", value: "200")
        trailers.add(name: "content-type", value: "application/grpc")
        trailers.add(name: "grpc-status", value: "8")  // RESOURCE_EXHAUSTED
        trailers.add(name: "grpc-message", value: message.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: " -_.,"))) ?? "")
        context.write(wrapOutboundOut(.headers(.init(headers: trailers, endStream: true))), promise: nil)
        // RFC 7540 8.1: a complete response, then RST_STREAM(NO_ERROR) to stop
        // the client sending the rest (a plain close would say CANCEL, which
        // clients report instead of the status).
        context.writeAndFlush(wrapOutboundOut(.rstStream(.noError)), promise: nil)
        context.close(promise: nil)
    }
}
