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
