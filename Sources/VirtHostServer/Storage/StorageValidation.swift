import Foundation
import GRPCCore
import VirtHostAPI

/// Checks on storage input: volume names, sizes, host paths, remote sources.
/// All of them run before anything reaches libvirt.
extension Validate {
    /// The largest capacity the agent accepts: what a signed 64-bit file
    /// offset can address (qemu-img and the kernel use off_t).
    static let maxVolumeBytes = UInt64(Int64.max)

    /// A volume name: it becomes a file name in dir/fs/netfs pools, so no
    /// '/', no NUL, not "." or "..", at most 255 bytes.
    static func volumeName(_ name: String, field: String = "volume name") throws {
        guard !name.isEmpty else { throw Refusal.invalid("\(field) is empty") }
        guard !name.utf8.contains(0) else { throw Refusal.invalid("\(field) contains a NUL byte") }
        guard !name.contains("/") else {
            throw Refusal.invalid("\(field) '\(name.prefix(64))' contains '/': a volume name is one file name, not a path")
        }
        guard name != ".", name != ".." else { throw Refusal.invalid("\(field) must not be '.' or '..'") }
        guard name.utf8.count <= 255 else { throw Refusal.invalid("\(field) is longer than 255 bytes") }
        guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw Refusal.invalid("\(field) '\(name.prefix(64))' contains a control character")
        }
    }

    /// A size in bytes: more than zero and addressable.
    static func size(_ bytes: UInt64, field: String) throws {
        guard bytes > 0 else { throw Refusal.invalid("\(field) is zero; give a size in bytes") }
        guard bytes <= maxVolumeBytes else {
            throw Refusal.invalid("\(field) \(bytes) overflows: the largest size is \(maxVolumeBytes) bytes (8 EiB - 1)")
        }
    }

    /// An absolute host path without NUL, control characters, or '.'/'..' parts.
    static func absolutePath(_ path: String, field: String) throws {
        guard !path.isEmpty else { throw Refusal.invalid("\(field) is empty") }
        guard path.hasPrefix("/") else { throw Refusal.invalid("\(field) '\(path.prefix(64))' is not an absolute path") }
        guard path.utf8.count <= 4096 else { throw Refusal.invalid("\(field) is longer than 4096 bytes") }
        guard !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw Refusal.invalid("\(field) contains a NUL or control character")
        }
        let parts = path.split(separator: "/")
        guard !parts.contains(where: { $0 == "." || $0 == ".." }) else {
            throw Refusal.invalid("\(field) '\(path.prefix(64))' has a '.' or '..' component; give the plain path")
        }
    }

    /// A host name or IP address of a remote storage source. Tests and the
    /// README use addresses such as 127.0.0.1.
    static func host(_ host: String, field: String) throws {
        guard !host.isEmpty else { throw Refusal.invalid("\(field) is empty") }
        guard host.utf8.count <= 253 else { throw Refusal.invalid("\(field) is longer than 253 bytes") }
        let ok = host.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "." || $0 == "-" || $0 == ":"
        }
        guard ok, !host.hasPrefix("-"), !host.hasPrefix(".") else {
            throw Refusal.invalid("\(field) '\(host.prefix(64))' is not a host name or IP address")
        }
    }

    /// An iSCSI qualified name: iqn.YYYY-MM.reverse.domain[:suffix], or eui./naa. forms.
    static func iscsiName(_ name: String, field: String) throws {
        let lower = name.lowercased()
        let shapeOK = lower.hasPrefix("iqn.") || lower.hasPrefix("eui.") || lower.hasPrefix("naa.")
        let charsOK = name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-:_".unicodeScalars.contains($0))
        }
        guard shapeOK, charsOK, name.utf8.count <= 223 else {
            throw Refusal.invalid(
                "\(field) '\(name.prefix(64))' is not an iSCSI name (like iqn.2024-01.org.example:storage)")
        }
    }

    /// A fibre channel world wide name: 16 hex digits.
    static func wwn(_ value: String, field: String) throws {
        guard value.count == 16, value.allSatisfy(\.isHexDigit) else {
            throw Refusal.invalid("\(field) '\(value.prefix(64))' is not a world wide name (16 hex digits)")
        }
    }

    /// A simple token: letters, digits, '-', '_', '.' (pool, volume-group, user names).
    static func token(_ value: String, field: String, max: Int = 128) throws {
        guard !value.isEmpty else { throw Refusal.invalid("\(field) is empty") }
        guard value.utf8.count <= max else { throw Refusal.invalid("\(field) is longer than \(max) bytes") }
        let ok = value.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0))
        }
        guard ok, !value.hasPrefix("-") else {
            throw Refusal.invalid("\(field) '\(value.prefix(64))' may only hold letters, digits, '-', '_', '.'")
        }
    }

    /// One of a fixed set of words.
    static func oneOf(_ value: String, _ allowed: [String], field: String) throws {
        guard allowed.contains(value) else {
            throw Refusal.invalid("\(field) '\(value.prefix(64))' is not one of: \(allowed.joined(separator: ", "))")
        }
    }

    /// A lowercase or uppercase hex SHA-256 digest.
    static func sha256(_ value: String, field: String) throws {
        guard value.count == 64, value.allSatisfy(\.isHexDigit) else {
            throw Refusal.invalid("\(field) is not a sha256 digest (64 hex digits)")
        }
    }
}
