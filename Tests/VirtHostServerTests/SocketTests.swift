import Foundation
import Testing
import VirtHostClient
@testable import VirtHostServer

/// The agent's handling of its socket file.
@Suite struct SocketTests {
    @Test func socketGetsItsModeAndIsRemovedOnStop() async throws {
        let path = try await DaemonHarness.withAgent(socketMode: 0o640) { client, path in
            var info = stat()
            #expect(lstat(path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o640)
            _ = try await client.version()
            return path
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func refusesWhenAnotherAgentAnswers() async throws {
        try await DaemonHarness.withAgent { _, path in
            #expect(SocketFile.answers(path))
            #expect(throws: SocketFile.Refusal.self) { try SocketFile.prepare(path) }
        }
    }

    @Test func replacesAStaleSocketAndRefusesAFile() throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A stale socket: bound, then its listener gone.
        let stale = folder + "/stale.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(stale.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(fd)
        #expect(FileManager.default.fileExists(atPath: stale))
        #expect(!SocketFile.answers(stale))
        try SocketFile.prepare(stale)
        #expect(!FileManager.default.fileExists(atPath: stale))

        let file = folder + "/not-a-socket"
        FileManager.default.createFile(atPath: file, contents: Data("keep me".utf8))
        #expect(throws: SocketFile.Refusal.self) { try SocketFile.prepare(file) }
        #expect(FileManager.default.contents(atPath: file) == Data("keep me".utf8))
    }

    @Test func createsTheSocketFolder() throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try SocketFile.prepare(folder + "/a/b/agent.sock")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: folder + "/a/b", isDirectory: &isDirectory) && isDirectory.boolValue)
    }

    @Test func unknownSocketGroupIsAClearError() throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/f"
        FileManager.default.createFile(atPath: file, contents: nil)
        do {
            try SocketFile.applyPermissions(file, mode: 0o660, group: "no-such-group-vht")
            Issue.record("an unknown group was accepted")
        } catch let refusal as SocketFile.Refusal {
            #expect(refusal.description.contains("no-such-group-vht"))
        }
    }
}
