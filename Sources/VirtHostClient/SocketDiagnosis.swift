import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a Unix socket cannot be reached, told apart the way the kernel does:
/// by connecting to it once and reading errno.
enum SocketDiagnosis {
    /// An operator-facing reason when `path` cannot be connected to, or nil
    /// when a connection succeeds (the failure was something else). Without
    /// `waiting`, a full listen queue is a reason too, instead of a wait.
    static func problem(connecting path: String, waiting: Bool = true) -> String? {
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | (waiting ? 0 : Int32(SOCK_NONBLOCK.rawValue))
        let fd = socket(AF_UNIX, flags, 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            return "the socket path \(path) is too long for a Unix socket"
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result == 0 { return nil }
        switch errno {
        case EACCES, EPERM:
            return "permission denied on \(path): ask an admin to add you to the virthost group (then log in again)"
        case ENOENT:
            return "no socket at \(path): is virthostd running (systemctl status virthostd), and is the socket path right?"
        case ECONNREFUSED:
            return "nothing listens on \(path) (a socket file left behind?): is virthostd running (systemctl status virthostd)?"
        case ENOTDIR:
            return "\(path) is not a socket path (a part of it is not a folder)"
        default:
            return "cannot connect to \(path): \(String(cString: strerror(errno)))"
        }
    }
}
