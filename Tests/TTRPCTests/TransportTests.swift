import Foundation
import GRPCCore
import NIOCore
import Testing

@testable import TTRPC

/// The two transports together: a GRPCServer on TTRPCServerTransport and a
/// GRPCClient on TTRPCClientTransport, over a Unix socket, with a small
/// hand-written service (no virthost, no generated code).
@Suite(.timeLimit(.minutes(1))) struct TransportTests {
    @Test func unaryCallsCarryMessageMetadataAndDeadline() async throws {
        try await withEcho { client in
            let reply = try await client.unary(
                request: ClientRequest(message: "hello", metadata: ["x-note": "n1"]), descriptor: Echo.get,
                serializer: Text(), deserializer: Text(), options: .timeout(.seconds(5))
            ) { try $0.message }
            let parts = reply.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            #expect(parts.count == 4)
            #expect(parts[0] == "echo:hello" && parts[1] == "n1")
            // timeout_nano arrived as the configured metadata key, a grpc-timeout value.
            let deadline = try #require(TTRPCTimeouts.nanoseconds(grpcTimeout: parts[2]))
            #expect(deadline > 0 && deadline <= 5_000_000_000)
            // The connection's own metadata replaced what the client claimed.
            #expect(parts[3] == "42")

            // Without a timeout, no deadline is sent.
            let plain = try await client.unary(
                request: ClientRequest(message: "again"), descriptor: Echo.get,
                serializer: Text(), deserializer: Text(), options: .defaults
            ) { try $0.message }
            #expect(plain == "echo:again||none|42")
        }
    }

    @Test func errorsKeepTheirCodeAndMessage() async throws {
        try await withEcho { client in
            do {
                _ = try await client.unary(
                    request: ClientRequest(message: ""), descriptor: Echo.fail,
                    serializer: Text(), deserializer: Text(), options: .defaults
                ) { try $0.message }
                Issue.record("no error")
            } catch let error as RPCError {
                #expect(error.code == .notFound)
                #expect(error.message == "nothing here")
            }
            // An unknown method is UNIMPLEMENTED, and the connection goes on.
            do {
                _ = try await client.unary(
                    request: ClientRequest(message: ""), descriptor: MethodDescriptor(fullyQualifiedService: "test.Echo", method: "Nope"),
                    serializer: Text(), deserializer: Text(), options: .defaults
                ) { try $0.message }
                Issue.record("no error")
            } catch let error as RPCError {
                #expect(error.code == .unimplemented)
            }
            let reply = try await client.unary(
                request: ClientRequest(message: "still"), descriptor: Echo.get,
                serializer: Text(), deserializer: Text(), options: .defaults
            ) { try $0.message }
            #expect(reply.hasPrefix("echo:still|"))
        }
    }

    @Test func serverAndClientStreams() async throws {
        try await withEcho { client in
            let counted = try await client.serverStreaming(
                request: ClientRequest(message: "5"), descriptor: Echo.count,
                serializer: Text(), deserializer: Text(), options: .defaults
            ) { response in
                var seen: [String] = []
                for try await message in response.messages { seen.append(message) }
                return seen
            }
            #expect(counted == ["0", "1", "2", "3", "4"])

            let summed = try await client.clientStreaming(
                request: StreamingClientRequest(of: String.self) { writer in
                    for word in ["a", "bb", "ccc", ""] { try await writer.write(word) }
                },
                descriptor: Echo.sum, serializer: Text(), deserializer: Text(), options: .defaults
            ) { try $0.message }
            #expect(summed == "4 messages, 6 bytes")
        }
    }

    @Test func aCallEndsAtItsDeadline() async throws {
        try await withEcho { client in
            let started = ContinuousClock.now
            do {
                _ = try await client.unary(
                    request: ClientRequest(message: ""), descriptor: Echo.wait,
                    serializer: Text(), deserializer: Text(), options: .timeout(.milliseconds(300))
                ) { try $0.message }
                Issue.record("no error")
            } catch let error as RPCError {
                #expect(error.code == .deadlineExceeded)
            }
            #expect(ContinuousClock.now - started < .seconds(8))
        }
    }

    @Test func concurrentCallsShareOneConnection() async throws {
        try await withEcho { client in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        for round in 0..<10 {
                            let text = "\(index)-\(round)"
                            let reply = try await client.unary(
                                request: ClientRequest(message: text), descriptor: Echo.get,
                                serializer: Text(), deserializer: Text(), options: .defaults
                            ) { try $0.message }
                            guard reply.hasPrefix("echo:\(text)|") else { return false }
                        }
                        return true
                    }
                }
                for try await ok in group { #expect(ok) }
            }
        }
    }

    /// A server on a temporary socket and a client for it; both shut down
    /// afterwards, also when the body throws.
    func withEcho(_ body: (GRPCClient<TTRPCClientTransport>) async throws -> Void) async throws {
        let folder = "/tmp/vht-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/t.sock"
        var config = TTRPCServerTransport.Config()
        config.deadlineMetadataKey = "x-deadline"
        config.reservedMetadataPrefix = "x-peer-"
        config.connectionMetadata = { channel in channel.eventLoop.makeSucceededFuture(["x-peer-uid": "42"]) }
        let transport = TTRPCServerTransport(address: .unixDomainSocket(path: path), config: config)
        let server = GRPCServer(transport: transport, services: [EchoService()])
        let serving = Task { try await server.serve() }
        var result: Result<Void, any Error> = .success(())
        do {
            try await transport.listening()
            let client = GRPCClient(
                transport: TTRPCClientTransport(
                    path: path, methodKinds: ["test.Echo/Count": .serverStreaming, "test.Echo/Sum": .clientStreaming]))
            let connections = Task { try await client.runConnections() }
            do {
                try await body(client)
            } catch {
                result = .failure(error)
            }
            client.beginGracefulShutdown()
            try await connections.value
        } catch {
            result = .failure(error)
        }
        server.beginGracefulShutdown()
        try await serving.value
        try result.get()
    }
}

extension CallOptions {
    static func timeout(_ duration: Duration) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = duration
        return options
    }
}

/// Messages as UTF-8 text.
struct Text: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: String) throws -> Bytes { Bytes(Array(message.utf8)) }
    func deserialize<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> String {
        bytes.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }
}

enum Echo {
    static let get = MethodDescriptor(fullyQualifiedService: "test.Echo", method: "Get")
    static let fail = MethodDescriptor(fullyQualifiedService: "test.Echo", method: "Fail")
    static let count = MethodDescriptor(fullyQualifiedService: "test.Echo", method: "Count")
    static let sum = MethodDescriptor(fullyQualifiedService: "test.Echo", method: "Sum")
    static let wait = MethodDescriptor(fullyQualifiedService: "test.Echo", method: "Wait")
}

/// Get answers "echo:MESSAGE|x-note|x-deadline or none|x-peer-uid"; Fail
/// fails NOT_FOUND; Count streams 0..<N; Sum counts a client stream; Wait
/// waits until it is cancelled.
struct EchoService: RegistrableRPCService {
    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(forMethod: Echo.get, deserializer: Text(), serializer: Text()) { request, _ in
            var message = ""
            for try await part in request.messages { message += part }
            let metadata = request.metadata
            let note = metadata[stringValues: "x-note"].first(where: { _ in true }) ?? ""
            let deadline = metadata[stringValues: "x-deadline"].first(where: { _ in true }) ?? "none"
            let uids = Array(metadata[stringValues: "x-peer-uid"]).joined(separator: ",")
            let reply = "echo:\(message)|\(note)|\(deadline)|\(uids)"
            return StreamingServerResponse { writer in
                try await writer.write(reply)
                return [:]
            }
        }
        router.registerHandler(forMethod: Echo.fail, deserializer: Text(), serializer: Text()) { _, _ in
            StreamingServerResponse(error: RPCError(code: .notFound, message: "nothing here"))
        }
        router.registerHandler(forMethod: Echo.count, deserializer: Text(), serializer: Text()) { request, _ in
            var text = ""
            for try await part in request.messages { text += part }
            let count = Int(text) ?? 0
            return StreamingServerResponse { writer in
                for index in 0..<count { try await writer.write(String(index)) }
                return [:]
            }
        }
        router.registerHandler(forMethod: Echo.sum, deserializer: Text(), serializer: Text()) { request, _ in
            var messages = 0
            var bytes = 0
            for try await part in request.messages {
                messages += 1
                bytes += part.utf8.count
            }
            let reply = "\(messages) messages, \(bytes) bytes"
            return StreamingServerResponse { writer in
                try await writer.write(reply)
                return [:]
            }
        }
        router.registerHandler(forMethod: Echo.wait, deserializer: Text(), serializer: Text()) { _, _ in
            StreamingServerResponse { _ in
                try await Task.sleep(for: .seconds(30))
                return [:]
            }
        }
    }
}
