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

    private indirect enum Node {
        /// A string, number, true, false or null: its bytes.
        case scalar(Range<Int>)
        case array([Node])
        /// Members with their keys' bytes (quotes included).
        case object([(key: Range<Int>, value: Node)])
    }

    /// A guest-agent reply indented, keys in their order; text that is not
    /// JSON comes back as it is.
    static func indent(_ json: String) -> String {
        (try? format(json, sortKeys: false, colon: ": ")) ?? json
    }

    /// `json` indented by two spaces per level, `"key" : value`, keys sorted.
    static func format(_ json: String, sortKeys: Bool = true, colon: String = " : ") throws -> String {
        let bytes = Array(json.utf8)
        var index = 0
        let root = try parse(bytes, &index, sortKeys: sortKeys)
        skipSpace(bytes, &index)
        guard index == bytes.count else { throw Malformed(offset: index) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        write(root, bytes, &out, depth: 0, colon: Array(colon.utf8))
        return String(decoding: out, as: UTF8.self)
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

    private static func parse(_ bytes: [UInt8], _ index: inout Int, sortKeys: Bool) throws -> Node {
        skipSpace(bytes, &index)
        guard index < bytes.count else { throw Malformed(offset: index) }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var members: [(key: Range<Int>, value: Node)] = []
            skipSpace(bytes, &index)
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object([])
            }
            while true {
                skipSpace(bytes, &index)
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Malformed(offset: index) }
                let key = try string(bytes, &index)
                skipSpace(bytes, &index)
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw Malformed(offset: index) }
                index += 1
                members.append((key, try parse(bytes, &index, sortKeys: sortKeys)))
                skipSpace(bytes, &index)
                guard index < bytes.count else { throw Malformed(offset: index) }
                index += 1
                if bytes[index - 1] == UInt8(ascii: "}") { break }
                guard bytes[index - 1] == UInt8(ascii: ",") else { throw Malformed(offset: index - 1) }
            }
            if sortKeys { members.sort { bytes[$0.key].lexicographicallyPrecedes(bytes[$1.key]) } }
            return .object(members)
        case UInt8(ascii: "["):
            index += 1
            var items: [Node] = []
            skipSpace(bytes, &index)
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array([])
            }
            while true {
                items.append(try parse(bytes, &index, sortKeys: sortKeys))
                skipSpace(bytes, &index)
                guard index < bytes.count else { throw Malformed(offset: index) }
                index += 1
                if bytes[index - 1] == UInt8(ascii: "]") { break }
                guard bytes[index - 1] == UInt8(ascii: ",") else { throw Malformed(offset: index - 1) }
            }
            return .array(items)
        case UInt8(ascii: "\""):
            return .scalar(try string(bytes, &index))
        default:
            let start = index
            while index < bytes.count, !ends(bytes[index]) { index += 1 }
            guard index > start else { throw Malformed(offset: index) }
            return .scalar(start..<index)
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

    private static func write(_ node: Node, _ bytes: [UInt8], _ out: inout [UInt8], depth: Int, colon: [UInt8]) {
        func newline(_ depth: Int) {
            out.append(0x0a)
            out.append(contentsOf: repeatElement(0x20, count: 2 * depth))
        }
        switch node {
        case .scalar(let range):
            out.append(contentsOf: bytes[range])
        case .array(let items):
            guard !items.isEmpty else { return out.append(contentsOf: "[]".utf8) }
            out.append(UInt8(ascii: "["))
            for (position, item) in items.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                write(item, bytes, &out, depth: depth + 1, colon: colon)
            }
            newline(depth)
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            guard !members.isEmpty else { return out.append(contentsOf: "{}".utf8) }
            out.append(UInt8(ascii: "{"))
            for (position, member) in members.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                out.append(contentsOf: bytes[member.key])
                out.append(contentsOf: colon)
                write(member.value, bytes, &out, depth: depth + 1, colon: colon)
            }
            newline(depth)
            out.append(UInt8(ascii: "}"))
        }
    }
}
