import Foundation
import Glibc

/// systemd's readiness protocol (sd_notify), for `Type=notify` services: a
/// datagram such as `READY=1` sent to the Unix socket `$NOTIFY_SOCKET` names.
/// Does nothing where that variable is not set (not under systemd).
public enum SystemdNotify {
    /// Tells the service manager the agent accepts calls.
    public static func ready() {
        _ = send("READY=1\nSTATUS=serving")
    }

    /// Sends one notification; returns whether it was delivered (false also
    /// when there is no service manager to tell).
    @discardableResult
    public static func send(_ state: String) -> Bool {
        guard let target = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"], !target.isEmpty else { return false }
        var path = Array(target.utf8)
        // "@name" is an abstract socket: its address starts with a NUL byte.
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        var address = sockaddr_un()
        guard target.hasPrefix("/") || target.hasPrefix("@"),
            path.count < MemoryLayout.size(ofValue: address.sun_path)
        else { return false }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: path) }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let sent = state.utf8CString.withUnsafeBufferPointer { text in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, text.baseAddress, text.count - 1, Int32(MSG_NOSIGNAL), $0, length) }
            }
        }
        return sent >= 0
    }
}
