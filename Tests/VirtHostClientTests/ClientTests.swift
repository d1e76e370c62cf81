import Crypto
import Foundation
import GRPCCore
import SwiftProtobuf
import TTRPC
import Testing

@testable import VirtHostClient

/// The client's parts that need no agent: wires and socket paths, call
/// options, request builders, and what a call does when nothing answers.
@Suite struct ClientTests {
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A socket path nothing listens on.
    static func nowhere() -> String { "/tmp/vhc-\(UUID().uuidString.prefix(8))/none.sock" }

    /// ttrpc's request frame says whether a call streams; the client's table
    /// of streaming methods must match the contract.
    @Test func theClientKnowsEveryStreamingMethodOfTheContract() throws {
        let data = try Data(contentsOf: Self.repoRoot.appendingPathComponent("proto/virthost.protoset"))
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: data)
        var streaming: [String: TTRPCClientTransport.MethodKind] = [:]
        var methods = 0
        for file in set.file where file.package == "virthost.v1" {
            for service in file.service {
                for method in service.method {
                    methods += 1
                    #expect(!(method.clientStreaming && method.serverStreaming), "\(method.name) streams both ways")
                    let key = "virthost.v1.\(service.name)/\(method.name)"
                    if method.serverStreaming { streaming[key] = .serverStreaming }
                    if method.clientStreaming { streaming[key] = .clientStreaming }
                }
            }
        }
        #expect(methods > 50)
        #expect(streaming == VirtHostTransport.ttrpcMethodKinds)
    }

    @Test func wiresAndDefaultSockets() throws {
        #expect(VirtHostWire.allCases == [.grpc, .ttrpc])
        #expect(VirtHostWire(rawValue: "ttrpc") == .ttrpc)
        #expect(VirtHostWire(rawValue: "http2") == nil)
        // $VIRTHOST_SOCKET wins for both wires; the tests never set it, as it is process-wide.
        if let fromEnvironment = ProcessInfo.processInfo.environment["VIRTHOST_SOCKET"], !fromEnvironment.isEmpty {
            #expect(VirtHostClient.defaultSocketPath(for: .ttrpc) == fromEnvironment)
            #expect(VirtHostClient.defaultSocketPath == fromEnvironment)
        } else {
            #expect(VirtHostClient.defaultSocketPath(for: .grpc) == "/run/virthost/virthost.sock")
            #expect(VirtHostClient.defaultSocketPath(for: .ttrpc) == "/run/virthost/virthost-ttrpc.sock")
            #expect(VirtHostClient.defaultSocketPath == "/run/virthost/virthost.sock")
        }
        for wire in VirtHostWire.allCases {
            #expect(try VirtHostTransport(path: "/tmp/x.sock", wire: wire).wire == wire)
            let client = try VirtHostClient(socketPath: "/tmp/x.sock", wire: wire)
            #expect(client.socketPath == "/tmp/x.sock" && client.wire == wire)
            client.close()
        }
    }

    /// What the CLI talks to: a named wire or socket wins; with nothing
    /// named, the packaged ttrpc socket when it answers, else gRPC.
    @Test func theEndpointForWhatWasNamed() throws {
        let grpcPath = "/run/virthost/virthost.sock", ttrpcPath = "/run/virthost/virthost-ttrpc.sock"
        let none: [String: String] = [:]
        func endpoint(_ socket: String?, _ wire: VirtHostWire?, _ environment: [String: String] = [:], ttrpcAnswers: Bool)
            -> (String, VirtHostWire)
        {
            let found = VirtHostClient.endpoint(socketPath: socket, wire: wire, environment: environment) { path in
                #expect(path == ttrpcPath)
                return ttrpcAnswers
            }
            return (found.socketPath, found.wire)
        }
        for answers in [false, true] {
            // Named wire: its default socket, or the named one.
            #expect(endpoint(nil, .grpc, none, ttrpcAnswers: answers) == (grpcPath, .grpc))
            #expect(endpoint(nil, .ttrpc, none, ttrpcAnswers: answers) == (ttrpcPath, .ttrpc))
            #expect(endpoint(nil, nil, ["VIRTHOST_TRANSPORT": "GRPC"], ttrpcAnswers: answers) == (grpcPath, .grpc))
            #expect(endpoint("/tmp/t.sock", .ttrpc, none, ttrpcAnswers: answers) == ("/tmp/t.sock", .ttrpc))
            #expect(endpoint(nil, nil, ["VIRTHOST_TRANSPORT": "ttrpc", "VIRTHOST_SOCKET": "/tmp/t.sock"], ttrpcAnswers: answers)
                == ("/tmp/t.sock", .ttrpc))
            #expect(endpoint(nil, .grpc, ["VIRTHOST_TRANSPORT": "ttrpc"], ttrpcAnswers: answers) == (grpcPath, .grpc))
            // Named socket, no wire: gRPC on it (the flag before the variable).
            #expect(endpoint("/tmp/g.sock", nil, none, ttrpcAnswers: answers) == ("/tmp/g.sock", .grpc))
            #expect(endpoint(nil, nil, ["VIRTHOST_SOCKET": "/tmp/g.sock"], ttrpcAnswers: answers) == ("/tmp/g.sock", .grpc))
            #expect(endpoint("/tmp/a.sock", nil, ["VIRTHOST_SOCKET": "/tmp/b.sock"], ttrpcAnswers: answers) == ("/tmp/a.sock", .grpc))
        }
        // Nothing named (an empty or unknown variable names nothing).
        #expect(endpoint(nil, nil, ttrpcAnswers: true) == (ttrpcPath, .ttrpc))
        #expect(endpoint(nil, nil, ttrpcAnswers: false) == (grpcPath, .grpc))
        #expect(endpoint(nil, nil, ["VIRTHOST_SOCKET": "", "VIRTHOST_TRANSPORT": "http2"], ttrpcAnswers: true) == (ttrpcPath, .ttrpc))

        // answers: a listening socket yes; a socket nothing listens on (a file
        // a killed agent left), a file, a folder or nothing no.
        let folder = NSTemporaryDirectory() + "vhu-endpoint-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let socketPath = folder + "/s.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in socketPath.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(!VirtHostClient.answers(socketPath))
        #expect(listen(fd, 4) == 0)
        #expect(VirtHostClient.answers(socketPath))
        FileManager.default.createFile(atPath: folder + "/f", contents: Data())
        #expect(!VirtHostClient.answers(folder + "/f"))
        #expect(!VirtHostClient.answers(folder))
        #expect(!VirtHostClient.answers(folder + "/none"))
    }

    @Test func aTimeoutBecomesTheCallsDeadline() {
        let none = CallOptions.deadline(nil)
        #expect(none.timeout == nil)
        let three = CallOptions.deadline(.seconds(3))
        #expect(three.timeout == .seconds(3))
        // Nothing else changes.
        let defaults = CallOptions.defaults
        for options in [none, three] {
            #expect(options.waitForReady == defaults.waitForReady)
            #expect(options.maxRequestMessageBytes == defaults.maxRequestMessageBytes)
            #expect(options.maxResponseMessageBytes == defaults.maxResponseMessageBytes)
            #expect(options.compression == defaults.compression)
        }
    }

    @Test func requestBuildersFillTheirFields() {
        #expect(Virthost_V1_DomainRef.named("web-1").name == "web-1")
        #expect(Virthost_V1_PoolRef.named("images").name == "images")
        let volume = Virthost_V1_VolumeRef.volume(pool: "images", name: "a.qcow2")
        #expect(volume.pool == "images" && volume.name == "a.qcow2")
        let snapshot = Virthost_V1_SnapshotRef.named("web-1", "before")
        #expect(snapshot.domain.name == "web-1" && snapshot.name == "before")
        #expect(Virthost_V1_AgentRequest.named("web-1").domain.name == "web-1")
        let exec = VirtHostClient.execRequest("web-1", "/bin/echo", ["a", "b"], ["X=1"], Data([7]))
        #expect(exec.domain.name == "web-1" && exec.program == "/bin/echo")
        #expect(exec.args == ["a", "b"] && exec.env == ["X=1"] && exec.stdin == Data([7]))
    }

    @Test func deviceScopesBecomeLiveAndConfigFlags() {
        typealias Scope = VirtHostClient.DeviceScope
        let cases: [(Scope, live: Bool, config: Bool)] = [
            (.current, false, false), (.live, true, false), (.config, false, true), ([.live, .config], true, true),
        ]
        for (scope, live, config) in cases {
            #expect(scope.message.live == live && scope.message.config == config, "\(scope.rawValue)")
        }
    }

    // MARK: sha256

    @Test func sha256HexIsLowerCaseAndZeroPadded() {
        #expect(
            VirtHostClient.hex(SHA256.hash(data: Data("abc".utf8)))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            VirtHostClient.hex(SHA256.hash(data: Data()))
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// A file of several 1 MiB chunks hashes as its bytes in one piece do.
    @Test func sha256OfAFileReadsItInChunks() throws {
        let folder = NSTemporaryDirectory() + "vhc-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bytes = Data((0..<(VirtHostClient.transferChunkSize * 3 + 17)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) })
        let path = folder + "/blob"
        try bytes.write(to: URL(fileURLWithPath: path))
        let expected = SHA256.hash(data: bytes).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
        #expect(try VirtHostClient.sha256(ofFile: path) == expected)
        try Data().write(to: URL(fileURLWithPath: folder + "/empty"))
        #expect(try VirtHostClient.sha256(ofFile: folder + "/empty") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(throws: (any Error).self) { try VirtHostClient.sha256(ofFile: folder + "/missing") }
    }

    // MARK: Without an agent

    /// Files are checked before anything is sent: no agent is needed to be told.
    @Test func transfersCheckTheirFilesFirst() async throws {
        let folder = NSTemporaryDirectory() + "vhc-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let client = try VirtHostClient(socketPath: Self.nowhere(), wire: .grpc)
        defer { client.close() }
        func failure(_ body: () async throws -> Void) async -> VirtHostError? {
            do {
                try await body()
                return nil
            } catch {
                return error as? VirtHostError
            }
        }
        let missing = await failure { _ = try await client.uploadVolume(pool: "p", name: "v", from: folder + "/missing") }
        #expect(missing?.code == .invalidArgument)
        #expect(missing?.message.contains("cannot read '\(folder)/missing'") == true)
        try Data().write(to: URL(fileURLWithPath: folder + "/empty"))
        let empty = await failure { _ = try await client.uploadVolume(pool: "p", name: "v", from: folder + "/empty") }
        #expect(empty?.code == .invalidArgument)
        #expect(empty?.message.contains("is empty") == true)
        let nowhere = await failure { _ = try await client.downloadVolume(pool: "p", name: "v", to: folder + "/no/such/dir/file") }
        #expect(nowhere?.code == .invalidArgument)
        #expect(nowhere?.message.contains("cannot write a file next to") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["empty"])
    }

    /// A call to a socket nothing listens on fails UNAVAILABLE with a hint,
    /// on both wires, and soon.
    @Test(arguments: VirtHostWire.allCases)
    func anUnreachableAgentIsUnavailableWithAHint(wire: VirtHostWire) async throws {
        let client = try VirtHostClient(socketPath: Self.nowhere(), wire: wire)
        let started = ContinuousClock.now
        let outcome = await Task {
            do {
                _ = try await client.call { try await client.hosts.getVersion(.init(), options: .deadline(.seconds(20))) }
                return nil as VirtHostError?
            } catch {
                return error as? VirtHostError
            }
        }.value
        await client.shutdown()
        #expect(outcome?.code == .unavailable)
        #expect(outcome?.message.contains("socket path right?") == true, "\(String(describing: outcome))")
        #expect(ContinuousClock.now - started < .seconds(15))
    }

    @Test func callWrapsWhateverTheBodyThrows() async throws {
        let client = try VirtHostClient(socketPath: Self.nowhere(), wire: .grpc)
        defer { client.close() }
        do {
            _ = try await client.call { () async throws -> Int in throw RPCError(code: .aborted, message: "raced") }
            Issue.record("no error")
        } catch let error as VirtHostError {
            #expect(error.code == .aborted && error.message == "raced")
        }
        #expect(try await client.call { 7 } == 7)
    }
}
