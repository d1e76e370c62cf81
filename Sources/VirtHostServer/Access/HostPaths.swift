import Foundation
import Glibc

/// Host paths as the kernel will follow them: resolved through `.`, `..`
/// and symlinks, and checked against the folders they must stay in. Plain
/// syscalls (realpath, lstat), safe on any thread.
enum HostPaths {
    /// What `lstat` says a path is, without following a final symlink.
    enum Kind: Equatable {
        case missing
        /// A regular file, with its number of hard links.
        case regular(links: UInt)
        case directory
        case symlink(to: String)
        case blockDevice
        /// A character device, FIFO or socket.
        case special
    }

    /// The path with every existing part resolved (realpath) and the missing
    /// rest appended as written; nil when the path is not absolute or its
    /// missing rest holds `..` (which the kernel would resolve against a
    /// folder that does not exist yet).
    static func resolve(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return nil }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var count = parts.count
        while count >= 0 {
            let prefix = "/" + parts[..<count].joined(separator: "/")
            if let resolved = realpath(prefix, nil) {
                defer { free(resolved) }
                var result = String(cString: resolved)
                for part in parts[count...] where part != "." {
                    if part == ".." { return nil }
                    result += result.hasSuffix("/") ? part : "/" + part
                }
                return result
            }
            count -= 1
        }
        return nil
    }

    /// Whether resolved `path` is `folder` or inside it (`folder` is resolved here).
    static func isInside(_ path: String, folder: String) -> Bool {
        let base = resolve(folder) ?? folder
        if path == base { return true }
        return path.hasPrefix(base.hasSuffix("/") ? base : base + "/")
    }

    /// The first of `roots` that holds resolved `path`, if any.
    static func root(holding path: String, in roots: [String]) -> String? {
        roots.first { isInside(path, folder: $0) }
    }

    /// What the path itself is (a final symlink is not followed).
    static func kind(_ path: String) -> Kind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular(links: UInt(info.st_nlink))
        case S_IFDIR: return .directory
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(path, &buffer, buffer.count - 1)
            return .symlink(to: length > 0 ? String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?")
        case S_IFBLK: return .blockDevice
        default: return .special
        }
    }

    /// Where host paths named by a libvirt URI live, and so whether they
    /// can be checked here.
    enum Host {
        /// This host: paths are checked.
        case local
        /// libvirt's in-process test driver: its paths are not files here.
        case simulated
        /// Another host (a remote URI): its paths cannot be checked here.
        case remote

        init(uri: String) {
            if uri.hasPrefix("test:") {
                self = .simulated
            } else if let components = URLComponents(string: uri),
                      (components.host ?? "").isEmpty, !(components.scheme ?? "").contains("+") {
                self = .local
            } else {
                self = .remote
            }
        }
    }
}
