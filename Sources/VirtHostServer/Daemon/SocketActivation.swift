import Foundation
import Glibc

/// Listening sockets handed over by systemd (`virthostd.socket`) or any
/// launcher that follows its protocol (`systemd-socket-activate`): the
/// descriptors start at 3, `LISTEN_FDS` says how many, `LISTEN_PID` whom they
/// are for.
///
/// Each passed socket is matched to a configured listener by the path it is
/// bound to, so the socket unit and `virthostd.toml` must name the same path;
/// a passed socket that matches no listener is a configuration error. A
/// listener with no passed socket binds its own, as without activation.
public enum SocketActivation {
    /// The first passed descriptor (SD_LISTEN_FDS_START).
    static let firstDescriptor: Int32 = 3

    /// Reads the passed sockets into `configuration.inheritedSockets`, and
    /// unsets `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` so that nothing
    /// the agent starts inherits them. Does nothing when no sockets were
    /// passed to this process.
    public static func adopt(into configuration: inout DaemonSettings) throws {
        let passed = try passedUnixSockets()
        let listeners = [configuration.socketPath] + (configuration.readOnlySocketPath.map { [$0] } ?? [])
            + (configuration.ttrpcSocketPath.map { [$0] } ?? [])
        for (path, descriptor) in passed {
            guard listeners.contains(path) else {
                throw DaemonConfiguration.Invalid(
                    path: "LISTEN_FDS", line: nil,
                    reason: "the service manager passed a socket bound to \(path), but the configuration serves "
                        + listeners.joined(separator: " and ")
                        + " (make ListenStream= in virthostd.socket and [socket] path in virthostd.toml agree)")
            }
            configuration.inheritedSockets[path] = descriptor
        }
    }

    /// The passed listening Unix stream sockets, by the path they are bound to.
    static func passedUnixSockets() throws -> [String: Int32] {
        guard let pidText = ProcessInfo.processInfo.environment["LISTEN_PID"],
            let countText = ProcessInfo.processInfo.environment["LISTEN_FDS"]
        else { return [:] }
        // Meant for another process (a parent that forgot to unset them).
        guard let pid = pid_t(pidText), pid == getpid() else { return [:] }
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }
        guard let count = Int32(countText), count >= 0, count < 64 else {
            throw DaemonConfiguration.Invalid(path: "LISTEN_FDS", line: nil, reason: "'\(countText)' is not a number of sockets")
        }
        var sockets: [String: Int32] = [:]
        for descriptor in firstDescriptor..<(firstDescriptor + count) {
            // Not inherited by anything the agent runs.
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            guard let path = listeningUnixPath(descriptor) else {
                throw DaemonConfiguration.Invalid(
                    path: "LISTEN_FDS", line: nil,
                    reason: "passed descriptor \(descriptor) is not a listening Unix stream socket bound to a path "
                        + "(virthostd.socket must use ListenStream=/path)")
            }
            sockets[path] = descriptor
        }
        return sockets
    }

    /// The path a listening `AF_UNIX` `SOCK_STREAM` socket is bound to; nil for anything else.
    static func listeningUnixPath(_ descriptor: Int32) -> String? {
        var type: Int32 = 0
        var listening: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_TYPE, &type, &size) == 0, type == Int32(SOCK_STREAM.rawValue) else { return nil }
        size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == 0, listening == 1 else { return nil }
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0, address.sun_family == sa_family_t(AF_UNIX) else { return nil }
        let path = withUnsafeBytes(of: address.sun_path) { raw -> String in
            let bytes = raw.prefix(Int(length) - MemoryLayout<sa_family_t>.size)
            return String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        // Abstract sockets start with a NUL byte and have no path.
        return path.isEmpty ? nil : path
    }
}
