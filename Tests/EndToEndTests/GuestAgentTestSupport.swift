import Foundation
import LibXML
import Libvirt
import Testing
import VirtHostClient

/// Helpers of the guest-agent and snapshot suites: a daemon with extra flags,
/// a guest booted through the agent, disks formatted for the guest, and the
/// `virthost` CLI run as a process.
enum AgentBed {
    /// Runs a program on the host; returns its status, stdout and stderr.
    @discardableResult
    static func run(_ path: String, _ arguments: [String], check: Bool = true) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let result = (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
        if check, result.0 != 0 {
            throw TestBedError("\(path) \(arguments.joined(separator: " ")) exited \(result.0): \(result.2)")
        }
        return result
    }

    /// The `virthost` CLI against an agent's socket.
    static func cli(_ socket: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try run("\(TestBed.binDir)/virthost", ["--socket", socket] + arguments, check: false)
    }

    /// The median of some durations.
    static func median(_ values: [Duration]) -> Duration {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    static func ms(_ duration: Duration) -> String {
        String(format: "%.1f ms", Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15)
    }

    /// The error a call threw, as the client's error type.
    static func error(_ body: () async throws -> Void) async -> VirtHostError? {
        do {
            try await body()
            return nil
        } catch let error as VirtHostError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }
}

/// A `virthostd` with extra flags (e.g. the agent command policy), on a
/// socket of this run; stopped by ``stop()`` or when the test ends.
final class FlaggedAgentProcess {
    let socketPath: String
    let process = Process()
    let client: VirtHostClient

    init(name: String, flags: [String]) throws {
        socketPath = "/tmp/\(TestBed.prefix)\(name).sock"
        process.executableURL = URL(fileURLWithPath: "\(TestBed.binDir)/virthostd")
        process.arguments = [
            "--connect", TestBed.uri, "--socket", socketPath, "--socket-mode", "0600", "--log-level", "warning",
            "--config", "/dev/null",
        ] + flags
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while !AgentProcess.answers(socketPath) {
            guard process.isRunning else { throw TestBedError("virthostd exited with \(process.terminationStatus)") }
            guard Date() < deadline else {
                process.terminate()
                throw TestBedError("virthostd did not open \(socketPath) within 30 s")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        client = try VirtHostClient(socketPath: socketPath, wire: .grpc)
    }

    deinit { if process.isRunning { process.terminate() } }

    func stop() async -> Int32 {
        await client.shutdown()
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

extension TestGuest {
    /// What the guest's one disk holds.
    enum DiskKind {
        /// The raw file formatted ext4 on the host, before boot.
        case rawExt4
        /// The raw file replaced by an empty qcow2 file (for internal snapshots).
        case qcow2
    }

    /// Prepares the disk of a guest made with `disk: true`; returns its domain XML.
    func prepareDisk(_ kind: DiskKind) throws -> String {
        guard let diskPath else { throw TestBedError("\(name) has no disk") }
        switch kind {
        case .rawExt4:
            try AgentBed.run("/usr/sbin/mkfs.ext4", ["-q", "-F", "-L", "vhtdata", diskPath])
            return domainXML
        case .qcow2:
            let qcow2 = "\(folder)/disk0.qcow2"
            try AgentBed.run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", qcow2, "16M"])
            try? FileManager.default.removeItem(atPath: diskPath)
            let document = try XMLDocument(xmlString: domainXML, options: [])
            for node in try document.nodes(forXPath: "/domain/devices/disk/driver/@type") { node.stringValue = "qcow2" }
            for node in try document.nodes(forXPath: "/domain/devices/disk/source/@file") { node.stringValue = qcow2 }
            return document.rootElement()!.xmlString
        }
    }

    /// Defines and starts the guest through the agent and waits for qemu-ga.
    func boot(_ client: VirtHostClient, xml: String? = nil) async throws {
        _ = try await client.defineDomain(xml: xml ?? domainXML)
        _ = try await client.startDomain(name)
        let seconds = try await waitForAgent()
        print("end-to-end: \(name) agent-ready \(String(format: "%.1f", seconds)) s after start")
    }

    /// Runs a shell command in the guest through the agent; throws unless it exits 0.
    @discardableResult
    func shell(_ client: VirtHostClient, _ script: String, timeout: Duration = .seconds(30)) async throws -> String {
        let result = try await client.exec(domain: name, program: "/bin/sh", arguments: ["-c", script], timeout: timeout)
        guard result.exited, result.exitCode == 0 else {
            throw TestBedError(
                "guest command failed (exited \(result.exited), code \(result.exitCode)): \(script)\n"
                    + String(decoding: result.stderr, as: UTF8.self))
        }
        return String(decoding: result.stdout, as: UTF8.self)
    }

    /// Mounts the disk with serial vht-disk0 (formatted ext4) at /mnt/data in the guest.
    func mountData(_ client: VirtHostClient) async throws {
        try await shell(client, """
            for b in /sys/block/vd*; do
              if [ "$(cat $b/serial 2>/dev/null)" = vht-disk0 ]; then dev=/dev/${b##*/}; fi
            done
            [ -n "$dev" ] || { echo "no disk with serial vht-disk0" >&2; exit 1; }
            mkdir -p /mnt/data && mount -t ext4 "$dev" /mnt/data
            """)
    }

    /// The guest's live disk sources, from libvirt directly.
    func liveDiskSources() throws -> [String] {
        let xml = try connection.lookupDomain(name: name).xml()
        let document = try XMLDocument(xmlString: xml, options: [])
        return try document.nodes(forXPath: "/domain/devices/disk/source/@file").compactMap(\.stringValue)
    }
}
