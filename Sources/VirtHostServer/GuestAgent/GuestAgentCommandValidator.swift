import GRPCCore

/// The checks a raw guest-agent command passes before anything reaches libvirt.
///
/// A command is one JSON object (RFC 8259) with a string `execute` naming the
/// command, an optional object `arguments` and an optional `id`, nothing
/// else; at most ``maxBytes`` of valid UTF-8, nested at most ``maxDepth``
/// levels, with no duplicate keys at any level. A general JSON parser would
/// accept duplicate keys (and keep one of them), overlong nesting (and
/// recurse until the stack runs out) or NUL characters (which libvirt cuts
/// strings at): each could make the command libvirt sends differ from the one
/// the policy checked, so this checker reads the bytes itself, with bounded
/// recursion, and builds no values besides the keys and `execute`.
///
/// The limits follow the layers below: libvirt 9.0 re-serializes the command
/// with yajl, whose generator stops at 128 levels (tried: depth 100 reached
/// the agent, depth 200 failed with "failed to convert virJSONValue to yajl
/// data"); a gRPC message is at most 4 MiB by default, so a 1 MiB limit makes
/// an oversized command a clear INVALID_ARGUMENT rather than a transport error.
enum GuestAgentCommandValidator {
    /// The largest command accepted, in bytes of UTF-8.
    static let maxBytes = 1 << 20
    /// The deepest nesting accepted; the command object itself is level 1.
    static let maxDepth = 64
    /// The longest command name accepted.
    static let maxNameBytes = 128

    /// A command that passed every check.
    struct Command: Sendable, Equatable {
        /// The `execute` member: the agent command's name.
        var execute: String
        /// Whether an `arguments` object is present.
        var hasArguments: Bool
    }

    /// Why a command was refused, with the byte offset when it applies.
    struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Checks a command given as a string (proto3 strings are valid UTF-8).
    static func validate(_ command: String) throws(Failure) -> Command {
        try validate(Array(command.utf8))
    }

    /// Checks a command given as raw bytes, which may be any bytes at all.
    static func validate(_ bytes: [UInt8]) throws(Failure) -> Command {
        if bytes.isEmpty { throw Failure(message: "command is empty; send a JSON object like {\"execute\":\"guest-ping\"}") }
        if bytes.count > maxBytes {
            throw Failure(message: "command is \(bytes.count) bytes; the limit is \(maxBytes) bytes")
        }
        if let offset = firstInvalidUTF8(bytes) {
            throw Failure(message: "command is not valid UTF-8 (bad byte 0x\(hex(bytes[offset])) at byte \(offset))")
        }
        var scanner = Scanner(bytes: bytes)
        return try scanner.command()
    }

    /// The offset of the first byte that does not belong to well-formed UTF-8
    /// (no overlong forms, no surrogates, nothing past U+10FFFF), or nil.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 {
                i += 1
                continue
            }
            let length: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch b {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; upper = 0x9F
            case 0xF0: length = 4; lower = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; upper = 0x8F
            default: return i
            }
            guard i + length <= n else { return i }
            guard (lower...upper).contains(bytes[i + 1]) else { return i + 1 }
            for k in 2..<length where !(0x80...0xBF).contains(bytes[i + k]) { return i + k }
            i += length
        }
        return nil
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }

    /// A strict recursive-descent reader; recursion is bounded by ``maxDepth``.
    private struct Scanner {
        let bytes: [UInt8]
        var i = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func command() throws(Failure) -> Command {
            skipSpace()
            guard i < bytes.count else { throw fail("command holds only white space") }
            switch bytes[i] {
            case UInt8(ascii: "{"): break
            case UInt8(ascii: "["): throw fail("command is a JSON array; it must be one object like {\"execute\":\"guest-ping\"}")
            default:
                // Say what it is when it is a whole JSON value of another kind.
                var probe = self
                if (try? probe.value(depth: 1)) != nil, probe.atEndAfterSpace() {
                    throw fail("command is a JSON \(kind(bytes[i])); it must be one object like {\"execute\":\"guest-ping\"}")
                }
                throw fail("command is not JSON: expected '{' at byte \(i)")
            }
            var execute: String?
            var hasArguments = false
            let start = i
            i += 1
            var keys: [[UInt8]] = []
            skipSpace()
            if peek() == UInt8(ascii: "}") {
                i += 1
            } else {
                while true {
                    skipSpace()
                    let keyOffset = i
                    let key = try string()
                    if keys.contains(key) {
                        throw fail("command has the key \"\(printable(key))\" twice (at byte \(keyOffset))")
                    }
                    keys.append(key)
                    try expectColon()
                    skipSpace()
                    let valueOffset = i
                    switch String(decoding: key, as: UTF8.self) {
                    case "execute":
                        guard peek() == UInt8(ascii: "\"") else {
                            _ = try value(depth: 2)
                            throw fail("\"execute\" must be a string naming the command, not a JSON \(kind(bytes[valueOffset]))")
                        }
                        execute = String(decoding: try string(), as: UTF8.self)
                    case "arguments":
                        guard peek() == UInt8(ascii: "{") else {
                            _ = try value(depth: 2)
                            throw fail("\"arguments\" must be a JSON object, not a JSON \(kind(bytes[valueOffset]))")
                        }
                        try value(depth: 2)
                        hasArguments = true
                    case "id":
                        try value(depth: 2)
                    default:
                        throw fail(
                            "command has the member \"\(printable(key))\" (at byte \(keyOffset)); only \"execute\", \"arguments\" and \"id\" are allowed")
                    }
                    skipSpace()
                    guard let next = peek() else { throw fail("command ends inside the object opened at byte \(start)") }
                    i += 1
                    if next == UInt8(ascii: "}") { break }
                    guard next == UInt8(ascii: ",") else { throw fail("command is not JSON: expected ',' or '}' at byte \(i - 1)") }
                }
            }
            guard atEndAfterSpace() else { throw fail("command has data after the JSON object, at byte \(i)") }
            guard let execute else { throw fail("command has no \"execute\" member naming the agent command") }
            try Self.checkName(execute)
            return Command(execute: execute, hasArguments: hasArguments)
        }

        static func checkName(_ name: String) throws(Failure) {
            guard !name.isEmpty else { throw Failure(message: "\"execute\" is empty") }
            guard name.utf8.count <= maxNameBytes else {
                throw Failure(message: "\"execute\" is longer than \(maxNameBytes) bytes")
            }
            for scalar in name.unicodeScalars {
                let ok = scalar.isASCII
                    && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_"
                        || scalar == ".")
                guard ok else {
                    throw Failure(
                        message: "\"execute\" \"\(String(name.prefix(64)))\" is not a command name (letters, digits, '-', '_', '.')")
                }
            }
        }

        // MARK: Values

        /// Reads one value. `depth` is the level the value sits at.
        mutating func value(depth: Int) throws(Failure) {
            skipSpace()
            guard let byte = peek() else { throw fail("command ends where a value was expected (byte \(i))") }
            switch byte {
            case UInt8(ascii: "{"):
                guard depth <= maxDepth else { throw fail("command is nested deeper than \(maxDepth) levels (at byte \(i))") }
                try object(depth: depth)
            case UInt8(ascii: "["):
                guard depth <= maxDepth else { throw fail("command is nested deeper than \(maxDepth) levels (at byte \(i))") }
                try array(depth: depth)
            case UInt8(ascii: "\""):
                _ = try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            default:
                throw fail("command is not JSON: unexpected \(describe(byte)) at byte \(i)")
            }
        }

        mutating func object(depth: Int) throws(Failure) {
            let start = i
            i += 1
            var keys: [[UInt8]] = []
            skipSpace()
            if peek() == UInt8(ascii: "}") {
                i += 1
                return
            }
            while true {
                skipSpace()
                let keyOffset = i
                let key = try string()
                // Objects in agent commands are small; a linear scan is cheap
                // and keeps no hashing of attacker-chosen keys.
                if keys.count < 64 ? keys.contains(key) : Set(keys).contains(key) {
                    throw fail("command has the key \"\(printable(key))\" twice in one object (at byte \(keyOffset))")
                }
                keys.append(key)
                try expectColon()
                try value(depth: depth + 1)
                skipSpace()
                guard let next = peek() else { throw fail("command ends inside the object opened at byte \(start)") }
                i += 1
                if next == UInt8(ascii: "}") { return }
                guard next == UInt8(ascii: ",") else { throw fail("command is not JSON: expected ',' or '}' at byte \(i - 1)") }
            }
        }

        mutating func array(depth: Int) throws(Failure) {
            let start = i
            i += 1
            skipSpace()
            if peek() == UInt8(ascii: "]") {
                i += 1
                return
            }
            while true {
                try value(depth: depth + 1)
                skipSpace()
                guard let next = peek() else { throw fail("command ends inside the array opened at byte \(start)") }
                i += 1
                if next == UInt8(ascii: "]") { return }
                guard next == UInt8(ascii: ",") else { throw fail("command is not JSON: expected ',' or ']' at byte \(i - 1)") }
            }
        }

        /// Reads a string and returns its decoded UTF-8 bytes.
        mutating func string() throws(Failure) -> [UInt8] {
            guard peek() == UInt8(ascii: "\"") else {
                if let byte = peek() { throw fail("command is not JSON: expected a string key at byte \(i), found \(describe(byte))") }
                throw fail("command ends where a string was expected (byte \(i))")
            }
            let start = i
            i += 1
            var out: [UInt8] = []
            while true {
                guard i < bytes.count else { throw fail("command ends inside the string opened at byte \(start)") }
                let b = bytes[i]
                switch b {
                case UInt8(ascii: "\""):
                    i += 1
                    return out
                case UInt8(ascii: "\\"):
                    try escape(into: &out)
                case 0x00..<0x20:
                    throw fail("command has the control character U+00\(hex(b)) unescaped in a string (byte \(i))")
                default:
                    out.append(b)
                    i += 1
                }
            }
        }

        mutating func escape(into out: inout [UInt8]) throws(Failure) {
            let at = i
            i += 1
            guard i < bytes.count else { throw fail("command ends inside an escape at byte \(at)") }
            let c = bytes[i]
            i += 1
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(c)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(at: at)
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw fail("command has a lone UTF-16 surrogate \\u\(String(scalar, radix: 16, uppercase: true)) at byte \(at)")
                    }
                    i += 2
                    let low = try hex4(at: at)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw fail("command has a lone UTF-16 surrogate \\u\(String(scalar, radix: 16, uppercase: true)) at byte \(at)")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("command has a lone UTF-16 surrogate \\u\(String(scalar, radix: 16, uppercase: true)) at byte \(at)")
                }
                guard scalar != 0 else {
                    throw fail("command has \\u0000 at byte \(at); libvirt cuts strings at NUL, so it is refused")
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
            default:
                throw fail("command has the invalid escape \\\(describeRaw(c)) at byte \(at)")
            }
        }

        mutating func hex4(at escapeOffset: Int) throws(Failure) -> UInt32 {
            guard i + 4 <= bytes.count else { throw fail("command has a short \\u escape at byte \(escapeOffset)") }
            var value: UInt32 = 0
            for k in 0..<4 {
                let c = bytes[i + k]
                let digit: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw fail("command has a bad \\u escape at byte \(escapeOffset)")
                }
                value = value << 4 | digit
            }
            i += 4
            return value
        }

        mutating func number() throws(Failure) {
            let start = i
            if peek() == UInt8(ascii: "-") { i += 1 }
            guard let first = peek(), isDigit(first) else { throw fail("command has a malformed number at byte \(start)") }
            i += 1
            if first != UInt8(ascii: "0") {
                while let d = peek(), isDigit(d) { i += 1 }
            }
            if peek() == UInt8(ascii: ".") {
                i += 1
                guard let d = peek(), isDigit(d) else { throw fail("command has a malformed number at byte \(start)") }
                while let d = peek(), isDigit(d) { i += 1 }
            }
            if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
                i += 1
                if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { i += 1 }
                guard let d = peek(), isDigit(d) else { throw fail("command has a malformed number at byte \(start)") }
                while let d = peek(), isDigit(d) { i += 1 }
            }
            if let next = peek(), isDigit(next) || next == UInt8(ascii: ".") {
                throw fail("command has a malformed number at byte \(start)")
            }
        }

        mutating func literal(_ word: StaticString) throws(Failure) {
            let expected = word.withUTF8Buffer { Array($0) }
            guard i + expected.count <= bytes.count, Array(bytes[i..<i + expected.count]) == expected else {
                throw fail("command is not JSON: unexpected \(describe(bytes[i])) at byte \(i)")
            }
            i += expected.count
            if let next = peek(), isWordByte(next) {
                throw fail("command is not JSON: unexpected \(describe(next)) at byte \(i)")
            }
        }

        // MARK: Helpers

        mutating func expectColon() throws(Failure) {
            skipSpace()
            guard peek() == UInt8(ascii: ":") else {
                if peek() == nil { throw fail("command ends where ':' was expected (byte \(i))") }
                throw fail("command is not JSON: expected ':' after an object key at byte \(i)")
            }
            i += 1
        }

        func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        }

        mutating func atEndAfterSpace() -> Bool {
            skipSpace()
            return i == bytes.count
        }

        func isDigit(_ b: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }

        func isWordByte(_ b: UInt8) -> Bool {
            isDigit(b) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
        }

        func kind(_ first: UInt8) -> String {
            switch first {
            case UInt8(ascii: "\""): "string"
            case UInt8(ascii: "["): "array"
            case UInt8(ascii: "{"): "object"
            case UInt8(ascii: "t"), UInt8(ascii: "f"): "boolean"
            case UInt8(ascii: "n"): "null"
            default: "number"
            }
        }

        func describe(_ b: UInt8) -> String {
            (0x21..<0x7F).contains(b) ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(GuestAgentCommandValidator.hex(b))"
        }

        func describeRaw(_ b: UInt8) -> String {
            (0x21..<0x7F).contains(b) ? String(Character(Unicode.Scalar(b))) : "<0x\(GuestAgentCommandValidator.hex(b))>"
        }

        /// A key for an error message: at most 64 bytes, control characters escaped.
        func printable(_ key: [UInt8]) -> String {
            let text = String(decoding: key.prefix(64), as: UTF8.self)
            var out = ""
            for scalar in text.unicodeScalars {
                if scalar.value < 0x20 || scalar == "\"" || scalar == "\\" {
                    out += "\\u" + fourHexDigits(scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
            return key.count > 64 ? out + "..." : out
        }

        func fail(_ message: String) -> Failure { Failure(message: message) }
    }
}

/// Four uppercase hex digits.
private func fourHexDigits(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

extension RPCError {
    /// A refused agent command, as INVALID_ARGUMENT.
    init(_ failure: GuestAgentCommandValidator.Failure) {
        self.init(code: .invalidArgument, message: failure.message)
    }
}
