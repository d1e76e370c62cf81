import Foundation
import SwiftProtobuf

/// Where the CLI writes its results. Tests swap the sink to capture output.
public enum Output {
    /// Replaces standard output for the current task (tests).
    @TaskLocal public static var sink: (@Sendable (String) -> Void)?

    /// Writes one line (or block) of output, unbuffered.
    static func line(_ text: String) {
        if let sink {
            sink(text + "\n")
        } else {
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
        }
    }

    /// Prints messages as one JSON document: an array for a list.
    static func json<M: SwiftProtobuf.Message>(_ messages: [M]) throws {
        let items = try messages.map { try $0.jsonString(options: jsonOptions) }
        line(try pretty("[" + items.joined(separator: ",") + "]"))
    }

    /// Prints one message as one JSON object.
    static func json<M: SwiftProtobuf.Message>(_ message: M) throws {
        line(try pretty(try message.jsonString(options: jsonOptions)))
    }

    /// Prints one message as compact JSON on one line (for streams).
    static func jsonLine<M: SwiftProtobuf.Message>(_ message: M) throws {
        line(try message.jsonString(options: jsonOptions))
    }

    /// Prints one JSON object whose fields are messages.
    static func json(fields: [String: any SwiftProtobuf.Message]) throws {
        let parts = try fields.keys.sorted().map { key in
            "\"\(key)\":" + (try fields[key]!.jsonString(options: jsonOptions))
        }
        line(try pretty("{" + parts.joined(separator: ",") + "}"))
    }

    /// Proto field names as in the .proto (snake_case), 64-bit numbers as numbers.
    /// Fields at their default value (false, 0, "") are left out, as the proto3
    /// JSON mapping does.
    static var jsonOptions: JSONEncodingOptions {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        options.alwaysPrintInt64sAsNumbers = true
        return options
    }

    private static func pretty(_ json: String) throws -> String {
        try PrettyJSON.format(json)
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
