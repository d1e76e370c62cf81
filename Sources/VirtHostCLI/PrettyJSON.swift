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

/// A plain-text table, virsh style: a header, a rule, left-aligned columns.
struct Table {
    let headers: [String]
    var rows: [[String]] = []

    init(_ headers: String...) { self.headers = headers }

    mutating func add(_ cells: String...) { rows.append(cells) }
    mutating func add(_ cells: [String]) { rows.append(cells) }

    func render() -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        // Plain string appends: Foundation's padding and trimming made a
        // table of 1,000 rows take tens of milliseconds.
        func format(_ cells: [String]) -> String {
            var line = ""
            for (i, cell) in cells.enumerated() {
                if i > 0 { line += "   " }
                line += cell
                if i < cells.count - 1 && i < widths.count { line += String(repeating: " ", count: max(0, widths[i] - cell.count)) }
            }
            while line.last == " " { line.removeLast() }
            while line.first == " " { line.removeFirst() }
            return line
        }
        let total = widths.reduce(0, +) + 3 * (widths.count - 1)
        return ([" " + format(headers), String(repeating: "-", count: total + 2)] + rows.map { " " + format($0) })
            .joined(separator: "\n")
    }
}

/// Key-value lines, virsh dominfo style.
struct Details {
    var pairs: [(String, String)] = []

    mutating func add(_ key: String, _ value: String) { pairs.append((key, value)) }

    func render() -> String {
        let width = (pairs.map(\.0.count).max() ?? 0) + 1
        return pairs.map { ($0.0 + ":").padding(toLength: width + 1, withPad: " ", startingAt: 0) + $0.1 }
            .joined(separator: "\n")
    }
}

enum Format {
    /// 1073741824 -> "1.00 GiB", as virsh prints sizes.
    static func bytes(_ value: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var size = Double(value)
        var unit = 0
        while size >= 1024, unit < units.count - 1 {
            size /= 1024
            unit += 1
        }
        guard unit > 0 else { return "\(value) B" }
        // "%.2f" without Foundation's formatter: a table of 1,000 rows
        // spent milliseconds in String(format:).
        let hundredths = Int((size * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) \(units[unit])"
    }

    static func yesNo(_ value: Bool) -> String { value ? "yes" : "no" }
}
