import Foundation
import GRPCCore
import VirtHostAPI

/// Checks on caller input, done before anything reaches libvirt.
enum Validate {
    /// libvirt object names: printable, no '/', bounded, no XML-hostile
    /// characters (they would survive XML escaping but break file names and
    /// the tools operators use next to us).
    static func objectName(_ name: String, field: String) throws {
        guard !name.isEmpty else { throw Refusal.invalid("\(field) is empty") }
        guard name.utf8.count <= 64 else {
            throw Refusal.invalid("\(field) '\(name.prefix(64))...' is longer than 64 bytes")
        }
        guard !name.hasPrefix("."), !name.hasPrefix("-") else {
            throw Refusal.invalid("\(field) '\(name)' must not start with '.' or '-'")
        }
        for scalar in name.unicodeScalars {
            let ok = (scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)))
                || scalar == "-" || scalar == "_" || scalar == "." || scalar == "+" || scalar == ":"
            guard ok else {
                throw Refusal.invalid(
                    "\(field) '\(name)' has the character \(quoted(scalar)); use letters, digits, '-', '_', '.', '+', ':'")
            }
        }
    }

    /// A lookup name: any name libvirt could hold, but never empty, NUL or overlong.
    static func lookupName(_ name: String, field: String) throws {
        guard !name.isEmpty else { throw Refusal.invalid("\(field) is empty") }
        guard name.utf8.count <= 1024, !name.utf8.contains(0) else {
            throw Refusal.invalid("\(field) is not a valid libvirt name (NUL byte or over 1024 bytes)")
        }
    }

    /// A canonical UUID string, 8-4-4-4-12 hex digits.
    static func uuid(_ uuid: String, field: String) throws {
        let parts = uuid.split(separator: "-", omittingEmptySubsequences: false)
        let lengths = parts.map(\.count)
        guard lengths == [8, 4, 4, 4, 12], uuid.allSatisfy({ $0 == "-" || $0.isHexDigit }) else {
            throw Refusal.invalid("\(field) '\(uuid.prefix(64))' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
        }
    }

    /// A MAC address, six colon-separated hex octets.
    static func mac(_ mac: String, field: String = "mac") throws {
        let octets = mac.split(separator: ":", omittingEmptySubsequences: false)
        guard octets.count == 6, octets.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isHexDigit) }) else {
            throw Refusal.invalid("\(field) '\(mac.prefix(64))' is not a MAC address (like 52:54:00:12:34:56)")
        }
        if let first = UInt8(octets[0], radix: 16), first & 1 == 1 {
            throw Refusal.invalid("\(field) '\(mac)' is a multicast address; a NIC needs a unicast MAC")
        }
    }

    /// A non-empty XML document within a size bound (libvirt parses it).
    static func xmlDocument(_ xml: String, field: String = "xml", root: String) throws {
        guard !xml.isEmpty else { throw Refusal.invalid("\(field) is empty") }
        guard xml.utf8.count <= 4 << 20 else { throw Refusal.invalid("\(field) is larger than 4 MiB") }
        guard xml.contains("<\(root)") else {
            throw Refusal.invalid("\(field) is not a <\(root)> document")
        }
    }

    private static func quoted(_ scalar: Unicode.Scalar) -> String {
        scalar.isASCII && scalar.value >= 0x20 && scalar.value < 0x7f
            ? "'\(Character(scalar))'" : String(format: "U+%04X", scalar.value)
    }
}
