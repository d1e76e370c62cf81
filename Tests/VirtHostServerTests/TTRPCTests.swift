import Foundation
import GRPCCore
import NIOCore
import SwiftProtobuf
import TTRPC
import Testing
import VirtHostClient
@testable import VirtHostServer

/// The agent's ttrpc socket as a raw client sees it (frames and messages
/// are tested in the TTRPCTests target; the Go client and the frame corpus
/// are in Tests/python; every server suite also runs over ttrpc with
/// VIRTHOST_TRANSPORT=ttrpc).
@Suite struct TTRPCTests {
    // MARK: The agent's ttrpc socket, raw

    @Test func rawUnaryCallsAndProtocolErrors() async throws {
        try await Self.withTTRPCAgent { socket, _ in try await offThePool {
            let raw = try RawTTRPC(path: socket)
            // A plain unary call.
            let version = try raw.call(id: 1, "virthost.v1.HostService", "GetVersion", Virthost_V1_GetVersionRequest())
            #expect(version.status.code == 0)
            let reply = try Virthost_V1_GetVersionResponse(serializedBytes: Array(version.payload.readableBytesView))
            #expect(reply.agentVersion == DaemonVersion.current)
            // A libvirt error keeps its details (ErrorInfo in the status).
            let missing = try raw.call(
                id: 3, "virthost.v1.NetworkService", "GetNetwork", Virthost_V1_NetworkRef.with { $0.name = "nope" })
            #expect(missing.status.code == Int32(RPCError.Code.notFound.rawValue))
            #expect(missing.status.message.contains("nope"))
            #expect(missing.status.encoded.map { String(decoding: $0.readableBytesView, as: UTF8.self).contains("libvirt.org") } == true)
            // Reused, decreasing and even stream ids, unknown methods, garbage.
            #expect(try raw.call(id: 3, "virthost.v1.HostService", "GetVersion", Virthost_V1_GetVersionRequest()).status.code == 3)
            #expect(try raw.call(id: 6, "virthost.v1.HostService", "GetVersion", Virthost_V1_GetVersionRequest()).status.code == 3)
            #expect(try raw.call(id: 7, "virthost.v1.HostService", "Nope", Virthost_V1_GetVersionRequest()).status.code == 12)
            #expect(try raw.call(id: 9, "", "", Virthost_V1_GetVersionRequest()).status.code == 3)
            try raw.send(TTRPCFrame(streamID: 11, kind: .request, data: ByteBuffer(bytes: [0x0a, 0x40, 0x41])))
            #expect(try raw.response().status.code == 3)
            // Data on a stream that is not open; a client's Response and an
            // unknown type are ignored.
            try raw.send(TTRPCFrame(streamID: 13, kind: .data, data: ByteBuffer(string: "x")))
            #expect(try raw.response().status.code == 3)
            try raw.send(TTRPCFrame(streamID: 15, kind: .response))
            try raw.send(TTRPCFrame(streamID: 17, type: 9))
            // An oversized frame: answered, skipped, and the connection goes on.
            var big = ByteBuffer()
            big.writeMultipleIntegers(UInt32(5 << 20), UInt32(19), UInt8(1), UInt8(0))
            try raw.write(big)
            try raw.write(ByteBuffer(repeating: 0, count: 5 << 20))
            let refused = try raw.response()
            #expect(refused.streamID == 19 && refused.status.code == 8)
            #expect(try raw.call(id: 21, "virthost.v1.HostService", "GetVersion", Virthost_V1_GetVersionRequest()).status.code == 0)
        } }
    }

    @Test func deadlinesFromTimeoutNanoAndStreamsOverRawFrames() async throws {
        try await Self.withTTRPCAgent { socket, _ in
            let raw = try RawTTRPC(path: socket)
            // Watch as a server stream with a 300 ms deadline: it ends DEADLINE_EXCEEDED.
            try await offThePool {
            let started = ContinuousClock.now
            try raw.request(id: 1, "virthost.v1.EventService", "Watch", Virthost_V1_WatchRequest(), flags: .remoteClosed, timeoutNano: 300_000_000)
            var frame = try raw.frame(timeout: .seconds(5))
            while frame.kind == .data { frame = try raw.frame(timeout: .seconds(5)) }
            let ended = try TTRPCResponse(decoding: frame.data)
            #expect(ended.status.code == Int32(RPCError.Code.deadlineExceeded.rawValue))
            #expect(ContinuousClock.now - started >= .milliseconds(290))
            // Called as unary, a streaming method says how to call it.
            try raw.request(id: 3, "virthost.v1.EventService", "Watch", Virthost_V1_WatchRequest(), flags: [], timeoutNano: 0)
            }
            let network = try VirtHostClient(socketPath: socket, wire: .ttrpc)
            defer { network.close() }
            // Events until the watch (subscribed at some point) has two.
            var answer: TTRPCFrame?
            for _ in 0..<50 where answer == nil {
                _ = try await network.stopNetwork("demo-nat")
                _ = try await network.startNetwork("demo-nat")
                answer = try? await offThePool { try raw.frame(timeout: .milliseconds(100)) }
            }
            let frame = try #require(answer)
            #expect(frame.kind == .response)
            let unary = (streamID: frame.streamID, status: try TTRPCResponse(decoding: frame.data).status)
            #expect(unary.streamID == 3 && unary.status.code == Int32(RPCError.Code.unimplemented.rawValue))
            #expect(unary.status.message.contains("streams its reply"))
        }
    }

    /// Concurrent callers share one connection; stream ids must still reach
    /// the server in increasing order (it refuses any other).
    @Test func concurrentCallsOnOneConnection() async throws {
        try await Self.withTTRPCAgent { socket, _ in
            let client = try VirtHostClient(socketPath: socket, wire: .ttrpc)
            defer { client.close() }
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<32 {
                    group.addTask {
                        var names = 0
                        for _ in 0..<20 { names += try await client.listNetworks().count }
                        return names
                    }
                }
                for try await names in group { #expect(names == 20 * 4) }
            }
        }
    }

    @Test func identityCannotBeSpoofedWithMetadata() async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = DaemonSettings(libvirtURI: DaemonHarness.demoURI, socketPath: folder + "/a.sock", socketMode: 0o600)
        configuration.ttrpcSocketPath = folder + "/t.sock"
        // This process (uid 0 in CI, or whoever runs the tests) is a reader; uid 4242 would be admin.
        configuration.access = AccessPolicy(adminUIDs: [4242], defaultRole: .reader)
        try await DaemonHarness.withAgent(configuration: configuration) { _, _ in try await offThePool {
            let raw = try RawTTRPC(path: folder + "/t.sock")
            let spoofed: [(key: String, value: String)] = [
                ("virthost-peer-uid", "4242"), ("Virthost-Peer-Groups", "0"), ("virthost-peer-connection", "1"),
            ]
            let reply = try raw.call(
                id: 1, "virthost.v1.NetworkService", "StopNetwork", Virthost_V1_NetworkRef.with { $0.name = "demo-nat" },
                metadata: spoofed)
            #expect(reply.status.code == Int32(RPCError.Code.permissionDenied.rawValue))
            #expect(reply.status.message.contains("needs the operator role"))
            let read = try raw.call(id: 3, "virthost.v1.NetworkService", "ListNetworks", Virthost_V1_ListNetworksRequest())
            #expect(read.status.code == 0)
        } }
    }

    @Test func gracefulShutdownEndsStreamsAndRemovesTheSocket() async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = DaemonSettings(libvirtURI: DaemonHarness.demoURI, socketPath: folder + "/a.sock", socketMode: 0o600)
        configuration.ttrpcSocketPath = folder + "/t.sock"
        let watching = try await DaemonHarness.withAgent(configuration: configuration) { _, _ in
            let client = try VirtHostClient(socketPath: folder + "/t.sock", wire: .ttrpc)
            #expect(FileManager.default.fileExists(atPath: folder + "/t.sock"))
            #expect(try await client.listNetworks().count == 4)
            // A watcher keeps running until the agent stops.
            return Task {
                defer { client.close() }
                try? await client.watchEvents { _ in }
                return ContinuousClock.now
            }
        }
        let ended = await watching.value
        #expect(ContinuousClock.now - ended < .seconds(5))
        #expect(!FileManager.default.fileExists(atPath: folder + "/t.sock"))
    }

    /// An agent on the demo host serving ttrpc; the body gets the ttrpc socket.
    static func withTTRPCAgent(_ body: (String, VirtHostClient) async throws -> Void) async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = DaemonSettings(libvirtURI: DaemonHarness.demoURI, socketPath: folder + "/a.sock", socketMode: 0o600)
        configuration.ttrpcSocketPath = folder + "/t.sock"
        try await DaemonHarness.withAgent(configuration: configuration) { client, _ in try await body(folder + "/t.sock", client) }
    }
}

/// Runs blocking socket I/O on a thread of its own: on the cooperative pool
/// (two threads here) it would starve the in-process agent it talks to.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// A blocking ttrpc client on a plain socket, for frames no library would send.
final class RawTTRPC: @unchecked Sendable {
    let fd: Int32
    private var pending = ByteBuffer()
    private var decoder = TTRPCFrameDecoder()

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8) + [0])
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    deinit { close(fd) }

    func write(_ buffer: ByteBuffer) throws {
        var bytes = Array(buffer.readableBytesView)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { throw POSIXError(.EPIPE) }
            bytes = bytes.dropFirst(written)
        }
    }

    func send(_ frame: TTRPCFrame) throws {
        var buffer = ByteBuffer()
        frame.encode(into: &buffer)
        try write(buffer)
    }

    func request(
        id: UInt32, _ service: String, _ method: String, _ message: some SwiftProtobuf.Message,
        flags: TTRPCFrame.Flags = [], timeoutNano: Int64 = 0, metadata: [(key: String, value: String)] = []
    ) throws {
        var request = TTRPCRequest()
        request.service = service
        request.method = method
        request.payload = ByteBuffer(bytes: try message.serializedBytes() as [UInt8])
        request.timeoutNano = timeoutNano
        request.metadata = metadata
        var data = ByteBuffer()
        request.encode(into: &data)
        try send(TTRPCFrame(streamID: id, kind: .request, flags: flags, data: data))
    }

    func call(
        id: UInt32, _ service: String, _ method: String, _ message: some SwiftProtobuf.Message,
        metadata: [(key: String, value: String)] = []
    ) throws -> (streamID: UInt32, status: TTRPCStatus, payload: ByteBuffer) {
        try request(id: id, service, method, message, metadata: metadata)
        return try response()
    }

    /// The next Response frame, decoded.
    func response() throws -> (streamID: UInt32, status: TTRPCStatus, payload: ByteBuffer) {
        let frame = try frame(timeout: .seconds(10))
        #expect(frame.kind == .response)
        let response = try TTRPCResponse(decoding: frame.data)
        return (frame.streamID, response.status, response.payload)
    }

    func frame(timeout: Duration) throws -> TTRPCFrame {
        let deadline = ContinuousClock.now + timeout
        while true {
            if case .frame(let frame)? = decoder.next(&pending) { return frame }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline - ContinuousClock.now
            guard left > .zero, poll(&poller, 1, Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)) > 0
            else { throw POSIXError(.ETIMEDOUT) }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else { throw POSIXError(.ECONNRESET) }
            pending.writeBytes(chunk[..<count])
        }
    }
}
