import Foundation

/// Keeps a gluster pool start from taking libvirtd down.
///
/// Measured on Debian 12 (libvirt 9.0, libgfapi 10.3): when starting a
/// gluster pool fails to connect, libvirtd segfaults about two minutes later
/// in libglusterfs's `glfs_timer` thread (seen in dmesg, reproduced twice).
/// So before asking libvirt to start a gluster pool the agent checks that
/// glusterd answers on the pool's host (TCP, port 24007 unless the XML names
/// one) and refuses with UNAVAILABLE when it does not.
enum GlusterGuard {
    static let defaultPort: UInt16 = 24007

    /// Throws UNAVAILABLE when `poolXML` is a gluster pool whose server does not answer.
    static func check(poolXML: String) throws {
        let reader = try XMLReader(poolXML)
        guard reader.string("/pool/@type") == "gluster" else { return }
        let host = reader.string("/pool/source/host/@name") ?? ""
        let port = reader.string("/pool/source/host/@port").flatMap(UInt16.init) ?? defaultPort
        if let failure = probe(host: host, port: port, timeout: 3) {
            throw Refusal(
                .unavailable,
                "gluster server \(host):\(port) does not answer (\(failure)); the pool is not started, because "
                    + "libvirt's gluster backend on this host crashes libvirtd about two minutes after a failed connection")
        }
    }

    /// nil when a TCP connection to host:port opens within `timeout`, else why not.
    static func probe(host: String, port: UInt16, timeout: TimeInterval) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else { return "cannot resolve '\(host)': \(String(cString: gai_strerror(status)))" }
        defer { freeaddrinfo(list) }
        var reason = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            defer { entry = address.pointee.ai_next }
            let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            if connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return nil }
            guard errno == EINPROGRESS else {
                reason = String(cString: strerror(errno))
                continue
            }
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&poller, 1, Int32(timeout * 1000))
            guard ready > 0 else {
                reason = "no answer within \(Int(timeout)) s"
                continue
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == 0 { return nil }
            reason = String(cString: strerror(error))
        }
        return reason
    }
}
