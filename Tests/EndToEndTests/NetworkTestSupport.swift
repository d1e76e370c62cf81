import Foundation
import HostNetworking
import Libvirt
import Testing
import VirtHostClient

/// What a networking test made on the host, removed in reverse order by
/// ``teardown()`` (also when the test fails): libvirt networks and host links,
/// all named with ``TestBed/prefix``.
final class NetScratch: @unchecked Sendable {
    let connection: Connection
    private var networks: [String] = []
    private var links: [String] = []
    private let lock = NSLock()

    init() throws { connection = try Connection.open(TestBed.uri) }

    /// A network name of this run: `vht-XXXXXX-SUFFIX`, remembered for teardown.
    func network(_ suffix: String) -> String {
        let name = TestBed.prefix + suffix
        lock.withLock { networks.append(name) }
        return name
    }

    /// A host link name of this run (at most 15 bytes), remembered for teardown.
    func link(_ suffix: String) -> String {
        let name = TestBed.prefix + suffix
        precondition(name.utf8.count <= 15, "link name \(name) is too long")
        lock.withLock { links.append(name) }
        return name
    }

    /// A bridge libvirt makes for a network: `vhtXXXXXXSUFFIX` (libvirt removes it on stop).
    func libvirtBridge(_ suffix: String) -> String {
        let name = "vht\(TestBed.runID)\(suffix)"
        precondition(name.utf8.count <= 15)
        return name
    }

    /// A veth pair standing in for a NIC (never the machine's real one).
    func veth(_ suffix: String) throws -> String {
        let name = link(suffix + "a")
        let peer = link(suffix + "b")
        _ = try HostLinks.createVeth(name, peer: peer)
        return name
    }

    func teardown() {
        let (networks, links) = lock.withLock { (self.networks, self.links) }
        for name in networks.reversed() {
            guard let network = try? connection.lookupNetwork(name: name) else { continue }
            if (try? network.isActive()) == true { try? network.stop() }
            try? network.undefine()
        }
        for name in links.reversed() {
            if let link = try? HostLinks.find(name) {
                if link.kind == "tap" || link.kind == "tun" { try? HostLinks.deleteTap(name) }
                if (try? HostLinks.find(name)) != nil { try? HostLinks.delete(name) }
            }
        }
    }

    static func with(_ body: (NetScratch) async throws -> Void) async throws {
        let scratch = try NetScratch()
        defer { scratch.teardown() }
        try await body(scratch)
    }
}

enum NetTest {
    /// The error a call threw, as the client's error type (nil when it succeeded).
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

    /// Seconds a block took.
    static func timed<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
        let start = Date()
        let value = try await body()
        return (value, Date().timeIntervalSince(start))
    }

    /// Polls until `condition` holds; returns the seconds waited, or nil on timeout.
    static func waitUntil(timeout: TimeInterval, _ condition: () throws -> Bool) async throws -> Double? {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if try condition() { return Date().timeIntervalSince(start) }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// Names a libvirt or host object of this run still has, for the leftovers check.
    static func leftovers(_ connection: Connection) throws -> [String] {
        let networks = try connection.listNetworks().map(\.name).filter { $0.hasPrefix(TestBed.prefix) }
        let links = try HostLinks.list().map(\.name).filter { $0.hasPrefix(TestBed.prefix) }
        return networks + links
    }

    /// Runs the real `virthost` CLI against an agent; returns stdout, or throws with stderr.
    static func cli(_ socket: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(TestBed.binDir)/virthost")
        process.arguments = ["--socket", socket] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestBedError("virthost \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self)
    }
}

extension TestGuest {
    /// The MACs of the guest's NICs, as its agent reports them (lower case).
    func guestMACs() throws -> Set<String> {
        let domain = try connection.lookupDomain(name: name)
        let reply = try domain.agentCommand(#"{"execute":"guest-network-get-interfaces"}"#, timeout: .seconds(5))
        let object = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any]
        let interfaces = object?["return"] as? [[String: Any]] ?? []
        return Set(interfaces.compactMap { ($0["hardware-address"] as? String)?.lowercased() })
    }

    /// Defines and starts the guest through libvirt and waits for its agent.
    func boot() async throws -> Double {
        let domain = try connection.defineDomain(xml: domainXML)
        try domain.start()
        return try await waitForAgent()
    }
}

extension TestGuest {
    /// Runs `/bin/sh -c command` in the guest through its agent; returns the
    /// exit code and standard output.
    func exec(_ command: String, timeout: TimeInterval = 30) async throws -> (code: Int, output: String) {
        let domain = try connection.lookupDomain(name: name)
        let request: [String: Any] = [
            "execute": "guest-exec",
            "arguments": ["path": "/bin/sh", "arg": ["-c", command], "capture-output": true],
        ]
        let text = String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self)
        let started = try JSONSerialization.jsonObject(with: Data(try domain.agentCommand(text, timeout: .seconds(5)).utf8)) as? [String: Any]
        guard let pid = (started?["return"] as? [String: Any])?["pid"] as? Int else { throw TestBedError("guest-exec gave no pid") }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let reply = try domain.agentCommand(#"{"execute":"guest-exec-status","arguments":{"pid":\#(pid)}}"#, timeout: .seconds(5))
            let status = (try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])?["return"] as? [String: Any]
            if status?["exited"] as? Bool == true {
                let output = (status?["out-data"] as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
                return (status?["exitcode"] as? Int ?? -1, output)
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestBedError("guest command did not finish within \(Int(timeout)) s: \(command)")
    }

    /// The guest's name for the NIC with `mac` (its agent reports both).
    func guestInterface(mac: String) throws -> String? {
        let domain = try connection.lookupDomain(name: name)
        let reply = try domain.agentCommand(#"{"execute":"guest-network-get-interfaces"}"#, timeout: .seconds(5))
        let interfaces = (try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])?["return"] as? [[String: Any]] ?? []
        return interfaces.first { ($0["hardware-address"] as? String)?.lowercased() == mac }?["name"] as? String
    }
}
