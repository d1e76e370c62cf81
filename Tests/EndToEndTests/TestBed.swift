import Foundation
import Libvirt
import Testing
import VirtHostClient

/// The real hypervisor for end-to-end tests: `qemu:///system`, the guest image
/// from `scripts/build-guest.sh`, and the `virthostd` binary. Every object a
/// run creates is named with ``prefix`` so `make clean-test-host` finds what a
/// crashed run left behind.
enum TestBed {
    static let uri = "qemu:///system"

    /// Unique per test process: `vht-` and six hex digits.
    static let runID = String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(6)).lowercased()
    static let prefix = "vht-\(runID)-"

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var guestDir: String {
        ProcessInfo.processInfo.environment["VIRTHOST_GUEST_DIR"] ?? repoRoot.appendingPathComponent(".cache/guest").path
    }

    static var binDir: String {
        ProcessInfo.processInfo.environment["VIRTHOST_BIN_DIR"] ?? repoRoot.appendingPathComponent(".build/debug").path
    }

    static var inCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Why the end-to-end tests cannot run on this machine, or nil when they can.
    static let unavailableReason: String? = {
        if getuid() != 0 { return "not root: libvirtd, bridges and guests need root" }
        for file in ["vmlinuz", "initramfs.img"] where !FileManager.default.fileExists(atPath: "\(guestDir)/\(file)") {
            return "no test guest at \(guestDir) (make test runs scripts/build-guest.sh)"
        }
        if !FileManager.default.isExecutableFile(atPath: "\(binDir)/virthostd") {
            return "no virthostd binary in \(binDir) (run swift build first)"
        }
        do {
            _ = try Connection.open(uri).libVersion()
        } catch {
            return "libvirtd does not answer at \(uri): \(error) (make test starts it)"
        }
        return nil
    }()

    /// Whether the suites run: always in CI (so a missing prerequisite fails
    /// loudly), elsewhere only when the host can run them.
    static var shouldRun: Bool {
        if let reason = unavailableReason, !inCI {
            FileHandle.standardError.write(Data("end-to-end tests skipped: \(reason)\n".utf8))
            return false
        }
        return true
    }

    /// Fails the test with the reason when the host cannot run it.
    static func requireAvailable() throws {
        if let reason = unavailableReason { throw TestBedError("end-to-end test cannot run: \(reason)") }
    }
}

struct TestBedError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A `virthostd` process serving `qemu:///system` on a socket of this run.
final class AgentProcess {
    let socketPath: String
    let process = Process()
    let client: VirtHostClient
    /// The agent's ttrpc socket, when it was asked to serve one.
    let ttrpcSocketPath: String?

    init(name: String, ttrpc: Bool = false) throws {
        socketPath = "/tmp/\(TestBed.prefix)\(name).sock"
        ttrpcSocketPath = ttrpc ? "/tmp/\(TestBed.prefix)\(name)-t.sock" : nil
        process.executableURL = URL(fileURLWithPath: "\(TestBed.binDir)/virthostd")
        process.arguments = [
            "--connect", TestBed.uri, "--socket", socketPath, "--socket-mode", "0600", "--log-level", "warning",
            "--config", "/dev/null",
        ] + (ttrpcSocketPath.map { ["--ttrpc-socket", $0] } ?? [])
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while !Self.answers(socketPath) {
            guard process.isRunning else { throw TestBedError("virthostd exited with \(process.terminationStatus)") }
            guard Date() < deadline else {
                process.terminate()
                throw TestBedError("virthostd did not open \(socketPath) within 30 s")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        client = try VirtHostClient(socketPath: socketPath, wire: .grpc)
    }

    /// SIGTERM, then the exit status.
    func stop() async -> Int32 {
        await client.shutdown()
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func answers(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }
}
