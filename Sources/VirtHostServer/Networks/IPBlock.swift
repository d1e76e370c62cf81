import Foundation

/// An IPv4 or IPv6 address as bytes (4 or 16), parsed with `inet_pton`.
struct IPAddress: Equatable, Hashable, Comparable, CustomStringConvertible, Sendable {
    let bytes: [UInt8]

    init?(_ text: String) {
        guard !text.isEmpty, text.utf8.count < 64 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    var isV6: Bool { bytes.count == 16 }
    var family: String { isV6 ? "IPv6" : "IPv4" }
    var maxPrefix: Int { bytes.count * 8 }

    /// The address with every bit after `prefix` cleared (or set, for `fill`).
    func masked(_ prefix: Int, fill: Bool = false) -> IPAddress {
        var out = bytes
        for i in 0..<out.count {
            let keep = max(0, min(8, prefix - i * 8))
            let mask: UInt8 = keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
            out[i] = fill ? (out[i] & mask) | ~mask : out[i] & mask
        }
        return IPAddress(bytes: out)
    }

    static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        lhs.bytes.count != rhs.bytes.count ? lhs.bytes.count < rhs.bytes.count : lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// The canonical text form (`inet_ntop`).
    var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        var raw = bytes
        let family = isV6 ? AF_INET6 : AF_INET
        _ = raw.withUnsafeMutableBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// An address with its prefix length: a network's `<ip address prefix>`.
struct IPBlock: Equatable, CustomStringConvertible, Sendable {
    let address: IPAddress
    let prefix: Int

    var network: IPAddress { address.masked(prefix) }
    var last: IPAddress { address.masked(prefix, fill: true) }

    func contains(_ other: IPAddress) -> Bool {
        other.isV6 == address.isV6 && other.masked(prefix) == network
    }

    /// Whether the two subnets share any address.
    func overlaps(_ other: IPBlock) -> Bool {
        guard other.address.isV6 == address.isV6 else { return false }
        let shorter = min(prefix, other.prefix)
        return address.masked(shorter) == other.address.masked(shorter)
    }

    /// "192.0.2.0/24": the subnet, for messages.
    var subnet: String { "\(network)/\(prefix)" }
    var description: String { "\(address)/\(prefix)" }
}
