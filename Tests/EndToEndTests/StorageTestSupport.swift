import Foundation
import GRPCCore
import Libvirt
import Testing
import VirtHostClient

/// Host-side helpers of the storage suites: loop devices, folders and pools
/// named with the run's prefix, removed again also when a test fails.
enum StorageBed {
    /// Runs a host command, returning its standard output; throws with its
    /// standard error on a non-zero exit.
    @discardableResult
    static func sh(_ arguments: String...) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestBedError("\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: error, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A folder under /var/lib/libvirt/images named with the run's prefix.
    static func folder(_ name: String) -> String { "/var/lib/libvirt/images/\(TestBed.prefix)\(name)" }

    /// Runs `body` with a loop device over a sparse prefix-named backing file
    /// (attached with -P so partitions appear); unmounts, detaches and removes
    /// it afterwards, also when `body` throws.
    static func withLoopDevice<T>(_ name: String, size: UInt64, _ body: (String) async throws -> T) async throws -> T {
        let backing = folder("\(name).img")
        FileManager.default.createFile(atPath: backing, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: backing) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: backing))
        try handle.truncate(atOffset: size)
        try handle.close()
        let device = try sh("losetup", "-P", "-f", "--show", backing)
        defer {
            for _ in 0..<3 {
                if let mounts = try? sh("findmnt", "-rn", "-o", "TARGET", "-S", device), !mounts.isEmpty {
                    for target in mounts.split(separator: "\n") { _ = try? sh("umount", String(target)) }
                }
                if (try? sh("losetup", "-d", device)) != nil { break }
                usleep(200_000)
            }
        }
        return try await body(device)
    }

    /// Runs `body` with pool names that are removed afterwards (stopped,
    /// volumes deleted where libvirt can, undefined) with their target folders.
    static func withPools<T>(_ body: (PoolJanitor) async throws -> T) async throws -> T {
        let janitor = PoolJanitor()
        defer { janitor.cleanUp() }
        return try await body(janitor)
    }
}

/// Remembers pools and folders a test makes, and removes them.
final class PoolJanitor: @unchecked Sendable {
    private(set) var pools: [String] = []
    private(set) var folders: [String] = []

    /// A prefix-named pool name to be removed at the end.
    func pool(_ name: String) -> String {
        let full = "\(TestBed.prefix)\(name)"
        pools.append(full)
        return full
    }

    /// A prefix-named folder (made now) to be removed at the end.
    func folder(_ name: String, create: Bool = true) throws -> String {
        let path = StorageBed.folder(name)
        if create { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        folders.append(path)
        return path
    }

    func cleanUp() {
        guard let connection = try? Connection.open(TestBed.uri) else { return }
        for name in pools {
            guard let pool = try? connection.lookupStoragePool(name: name) else { continue }
            if (try? pool.isActive()) == true {
                for volume in (try? pool.listVolumes()) ?? [] { try? volume.delete() }
                try? pool.stop()
            }
            try? pool.undefine()
        }
        for folder in folders {
            _ = try? StorageBed.sh("umount", folder)
            try? FileManager.default.removeItem(atPath: folder)
        }
    }
}

/// Commands inside the test guest through qemu-ga's guest-exec.
enum GuestShell {
    /// Runs `/bin/sh -c script` in the guest and returns its standard output.
    static func run(_ guest: TestGuest, _ script: String, timeout: TimeInterval = 20) async throws -> String {
        let domain = try guest.connection.lookupDomain(name: guest.name)
        let command: [String: Any] = [
            "execute": "guest-exec",
            "arguments": ["path": "/bin/sh", "arg": ["-c", script], "capture-output": true],
        ]
        let request = String(decoding: try JSONSerialization.data(withJSONObject: command), as: UTF8.self)
        let reply = try domain.agentCommand(request, timeout: .seconds(10))
        guard let object = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any],
              let ret = object["return"] as? [String: Any], let pid = ret["pid"] as? Int else {
            throw TestBedError("guest-exec gave no pid: \(reply)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let status = try domain.agentCommand(#"{"execute":"guest-exec-status","arguments":{"pid":\#(pid)}}"#, timeout: .seconds(10))
            if let object = try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any],
               let ret = object["return"] as? [String: Any], ret["exited"] as? Bool == true {
                let encoded = ret["out-data"] as? String ?? ""
                return String(decoding: Data(base64Encoded: encoded) ?? Data(), as: UTF8.self)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestBedError("guest command did not finish within \(Int(timeout)) s: \(script)")
    }

    /// Each block device the guest sees: name, size in 512-byte sectors, serial, read-only flag.
    struct BlockDevice: Equatable, CustomStringConvertible {
        var name: String
        var sectors: UInt64
        var serial: String
        var readOnly: Bool
        var description: String { "\(name) \(sectors) sectors serial '\(serial)' ro=\(readOnly)" }
    }

    static func blockDevices(_ guest: TestGuest) async throws -> [BlockDevice] {
        let out = try await run(guest, """
            for d in /sys/block/*; do
              n=${d##*/}; case $n in loop*|ram*) continue;; esac
              echo "$n $(cat $d/size) $(cat $d/ro) $(cat $d/serial 2>/dev/null)"
            done
            """)
        return out.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 3, let sectors = UInt64(parts[1]) else { return nil }
            return BlockDevice(name: parts[0], sectors: sectors, serial: parts.count > 3 ? parts[3] : "", readOnly: parts[2] == "1")
        }
    }
}

/// Bytes a file takes on disk (st_blocks * 512), as du measures.
func allocatedBytes(_ path: String) -> UInt64 {
    var info = stat()
    guard stat(path, &info) == 0 else { return 0 }
    return UInt64(info.st_blocks) * 512
}

/// Expects a call to fail with a gRPC code; returns the error.
@discardableResult
func expectFailure(
    _ code: RPCError.Code, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> VirtHostError? {
    do {
        try await body()
        Issue.record("\(what): succeeded, expected \(code)", sourceLocation: sourceLocation)
        return nil
    } catch let error as VirtHostError {
        #expect(error.code == code, "\(what): \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("\(what): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
