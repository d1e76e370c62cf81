import Glibc

/// An IPv4 or IPv6 address with a prefix length, parsed and checked before
/// anything reaches the kernel (`192.0.2.10/24`, `2001:db8::1/64`).
public struct IPPrefix: Sendable, Hashable, Codable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public var bytes: [UInt8]
    /// 0-32 for IPv4, 0-128 for IPv6.
    public var prefix: Int

    public init(bytes: [UInt8], prefix: Int) {
        self.bytes = bytes
        self.prefix = prefix
    }

    /// IPv6 when 16 bytes.
    public var isIPv6: Bool { bytes.count == 16 }
    /// `AF_INET` or `AF_INET6`.
    public var family: Int32 { isIPv6 ? AF_INET6 : AF_INET }
    /// The address alone, as `inet_ntop` writes it.
    public var address: String { Self.format(bytes) }
    public var description: String { "\(address)/\(prefix)" }
    /// Whether this is fe80::/10 (needs an interface to mean anything).
    public var isLinkLocal: Bool { isIPv6 && bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 }
    /// The prefix's network: host bits cleared.
    public var network: IPPrefix {
        var masked = bytes
        for i in masked.indices {
            let bits = max(0, min(8, prefix - i * 8))
            masked[i] &= bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xff << (8 - bits))
        }
        return IPPrefix(bytes: masked, prefix: prefix)
    }

    /// Parses `ADDR/PREFIX`; without `/PREFIX` when `prefixOptional` (the
    /// prefix is then the full length). Returns the problem when it is not one.
    public static func parse(_ text: String, prefixOptional: Bool = false) -> Result<IPPrefix, ProblemText> {
        guard !text.isEmpty, text.utf8.count <= 64 else { return .failure(ProblemText("'\(text.prefix(64))' is not an IP address")) }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return .failure(ProblemText("'\(text)' has more than one '/'")) }
        guard let bytes = Self.bytes(String(parts[0])) else {
            return .failure(ProblemText("'\(parts[0])' is not an IPv4 or IPv6 address"))
        }
        let maximum = bytes.count * 8
        if parts.count == 1 {
            guard prefixOptional else { return .failure(ProblemText("'\(text)' has no prefix length (write ADDR/PREFIX, e.g. 192.0.2.10/24)")) }
            return .success(IPPrefix(bytes: bytes, prefix: maximum))
        }
        guard let prefix = Int(parts[1]), parts[1].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isNumber), (0...maximum).contains(prefix) else {
            return .failure(ProblemText("prefix length '\(parts[1].prefix(8))' of '\(parts[0])' is not 0-\(maximum)"))
        }
        return .success(IPPrefix(bytes: bytes, prefix: prefix))
    }

    /// A plain address's bytes (4 or 16), or nil.
    public static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if text.contains("."), !text.contains(":"), inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: v4) { Array($0) }
        }
        var v6 = in6_addr()
        if text.contains(":"), inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: v6) { Array($0) }
        }
        return nil
    }

    /// 4 or 16 bytes as text.
    public static func format(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 16 ? AF_INET6 : AF_INET
        guard bytes.count == 4 || bytes.count == 16,
            bytes.withUnsafeBytes({ inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }) != nil
        else { return "" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// Why a text is not what was asked for; a message for the caller.
public struct ProblemText: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
