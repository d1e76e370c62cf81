/// Indents JSON text two spaces a level, copying every string and number as
/// it is: `--json` output (keys sorted, `"key" : value`) and guest-agent
/// replies (keys in their order, `"key": value`, like
/// `virsh qemu-agent-command --pretty`).
///
/// `--json` went through Foundation's JSONSerialization before, which builds
/// NSDictionary and NSNumber objects: 60-80 ms for a list of 1,000 machines,
/// more than everything else `virthost --json domain list` did.
enum PrettyJSON {
    struct Malformed: Error, CustomStringConvertible {
        let offset: Int
        var description: String { "malformed JSON at byte \(offset)" }
    }

    /// A guest-agent reply indented, keys in their order; text that is not
    /// JSON comes back as it is.
    static func indent(_ json: String) -> String {
        (try? format(json, sortKeys: false, colon: ": ")) ?? json
    }

    /// `json` indented by two spaces per level, `"key" : value`, keys sorted.
    ///
    /// One pass that writes as it reads, without a tree: an object's members
    /// are found (each value skipped over, checked), sorted by key, then
    /// written, each value read again where it starts. A list of 1,000
    /// machines spent 3 ms building and writing a tree of its nodes.
    static func format(_ json: String, sortKeys: Bool = true, colon: String = " : ") throws -> String {
        var writer = Writer(bytes: Array(json.utf8), sortKeys: sortKeys, colon: Array(colon.utf8))
        writer.out.reserveCapacity(writer.bytes.count * 2)
        var index = 0
        try writer.value(&index, depth: 0)
        skipSpace(writer.bytes, &index)
        guard index == writer.bytes.count else { throw Malformed(offset: index) }
        return String(decoding: writer.out, as: UTF8.self)
    }

    private static func skipSpace(_ bytes: [UInt8], _ index: inout Int) {
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09
    }

    /// Whether a number or literal ends before this byte.
    private static func ends(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: ","), UInt8(ascii: ":"): true
        default: isSpace(byte)
        }
    }

    /// A string's bytes, quotes included; `index` is on its opening quote.
    private static func string(_ bytes: [UInt8], _ index: inout Int) throws -> Range<Int> {
        let start = index
        index += 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""):
                index += 1
                return start..<index
            default: index += 1
            }
        }
        throw Malformed(offset: start)
    }

    /// A number or literal's bytes (not checked further: copied as they are).
    private static func scalar(_ bytes: [UInt8], _ index: inout Int) throws -> Range<Int> {
        let start = index
        while index < bytes.count, !ends(bytes[index]) { index += 1 }
        guard index > start else { throw Malformed(offset: index) }
        return start..<index
    }

    /// After a member or an item: `,` (true) or the closing byte (false).
    private static func next(_ bytes: [UInt8], _ index: inout Int, closing: UInt8) throws -> Bool {
        skipSpace(bytes, &index)
        guard index < bytes.count else { throw Malformed(offset: index) }
        index += 1
        if bytes[index - 1] == closing { return false }
        guard bytes[index - 1] == UInt8(ascii: ",") else { throw Malformed(offset: index - 1) }
        return true
    }

    /// An object member's key, up to and past its colon.
    private static func key(_ bytes: [UInt8], _ index: inout Int) throws -> Range<Int> {
        skipSpace(bytes, &index)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Malformed(offset: index) }
        let key = try string(bytes, &index)
        skipSpace(bytes, &index)
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw Malformed(offset: index) }
        index += 1
        return key
    }

    /// Whether the container at `index` (after its opening byte) is empty;
    /// past its closing byte if so.
    private static func empty(_ bytes: [UInt8], _ index: inout Int, closing: UInt8) -> Bool {
        skipSpace(bytes, &index)
        guard index < bytes.count, bytes[index] == closing else { return false }
        index += 1
        return true
    }

    /// Moves past one value, checking it as ``Writer/value(_:depth:)`` does.
    private static func skip(_ bytes: [UInt8], _ index: inout Int) throws {
        skipSpace(bytes, &index)
        guard index < bytes.count else { throw Malformed(offset: index) }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            if empty(bytes, &index, closing: UInt8(ascii: "}")) { return }
            repeat {
                _ = try key(bytes, &index)
                try skip(bytes, &index)
            } while try next(bytes, &index, closing: UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            index += 1
            if empty(bytes, &index, closing: UInt8(ascii: "]")) { return }
            repeat { try skip(bytes, &index) } while try next(bytes, &index, closing: UInt8(ascii: "]"))
        case UInt8(ascii: "\""):
            _ = try string(bytes, &index)
        default:
            _ = try scalar(bytes, &index)
        }
    }

    private struct Writer {
        let bytes: [UInt8]
        let sortKeys: Bool
        let colon: [UInt8]
        var out: [UInt8] = []
        /// The members of the objects being written, innermost last: each
        /// object uses the end of the array and gives it back.
        var members: [(key: Range<Int>, value: Int)] = []

        mutating func newline(_ depth: Int) {
            out.append(0x0a)
            out.append(contentsOf: repeatElement(0x20, count: 2 * depth))
        }

        /// Reads the value at `index` and writes it indented for `depth`.
        mutating func value(_ index: inout Int, depth: Int) throws {
            skipSpace(bytes, &index)
            guard index < bytes.count else { throw Malformed(offset: index) }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                if empty(bytes, &index, closing: UInt8(ascii: "}")) { return out.append(contentsOf: "{}".utf8) }
                let base = members.count
                defer { members.removeSubrange(base...) }
                repeat {
                    let key = try key(bytes, &index)
                    skipSpace(bytes, &index)
                    members.append((key, index))
                    try skip(bytes, &index)
                } while try next(bytes, &index, closing: UInt8(ascii: "}"))
                if sortKeys { members[base...].sort { bytes[$0.key].lexicographicallyPrecedes(bytes[$1.key]) } }
                out.append(UInt8(ascii: "{"))
                for position in base..<members.count {
                    let member = members[position]
                    if position > base { out.append(UInt8(ascii: ",")) }
                    newline(depth + 1)
                    out.append(contentsOf: bytes[member.key])
                    out.append(contentsOf: colon)
                    var at = member.value
                    try value(&at, depth: depth + 1)
                }
                newline(depth)
                out.append(UInt8(ascii: "}"))
            case UInt8(ascii: "["):
                index += 1
                if empty(bytes, &index, closing: UInt8(ascii: "]")) { return out.append(contentsOf: "[]".utf8) }
                out.append(UInt8(ascii: "["))
                var first = true
                repeat {
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    newline(depth + 1)
                    try value(&index, depth: depth + 1)
                } while try next(bytes, &index, closing: UInt8(ascii: "]"))
                newline(depth)
                out.append(UInt8(ascii: "]"))
            case UInt8(ascii: "\""):
                out.append(contentsOf: bytes[try string(bytes, &index)])
            default:
                out.append(contentsOf: bytes[try scalar(bytes, &index)])
            }
        }
    }
}
