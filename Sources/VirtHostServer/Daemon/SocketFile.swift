import Foundation
import Glibc

/// Prepares and guards the agent's Unix socket path.
public enum SocketFile {
    /// Why the agent refuses a socket path.
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    /// Creates the socket's folder and clears the way for binding:
    /// refuses a path that is not a socket, refuses when another agent
    /// answers on it, and removes a stale socket file.
    public static func prepare(_ path: String) throws {
        guard !path.isEmpty, path.utf8.count < 108 else {
            throw Refusal(description: "socket path '\(path)' must be 1-107 bytes (the limit of a Unix socket address)")
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            } catch {
                throw Refusal(description: "cannot create the socket folder \(folder): \(error.localizedDescription)")
            }
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }  // nothing there
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw Refusal(description: "\(path) exists and is not a socket; refusing to replace it")
        }
        if answers(path) {
            throw Refusal(description: "another agent is already serving on \(path); stop it first or choose another --socket")
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw Refusal(description: "cannot remove the stale socket \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Whether something accepts connections on the socket path.
    public static func answers(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }

    /// Sets the socket's mode and, when given, its group (by name or number).
    public static func applyPermissions(_ path: String, mode: mode_t, group: String?) throws {
        guard chmod(path, mode) == 0 else {
            throw Refusal(description: "cannot set mode \(String(mode, radix: 8)) on \(path): \(String(cString: strerror(errno)))")
        }
        guard let group, !group.isEmpty else { return }
        let gid: gid_t
        if let number = gid_t(group) {
            gid = number
        } else if let entry = getgrnam(group) {
            gid = entry.pointee.gr_gid
        } else {
            throw Refusal(description: "socket group '\(group)' does not exist (create it, e.g. groupadd --system \(group))")
        }
        guard chown(path, uid_t.max, gid) == 0 else {
            throw Refusal(description: "cannot give \(path) to group \(group): \(String(cString: strerror(errno)))")
        }
    }
}
