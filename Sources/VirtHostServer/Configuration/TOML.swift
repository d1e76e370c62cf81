import Foundation

/// A value in a TOML document.
public enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])
    case table([String: TOMLValue])
}

/// Where a key was set, for error messages about its value.
public typealias TOMLLines = [String: Int]

/// Reads the part of TOML 1.0 a configuration file needs: comments, `[table]`
/// and `[table.sub]` headers, `key = value` with bare or quoted keys, basic
/// and literal strings, integers (with `_`, `0x`, `0o`, `0b`), floats,
/// booleans, and arrays (which may span lines). Anything else — inline
/// tables, arrays of tables, dates, multi-line strings — is refused with the
/// line and the reason rather than misread.
public enum TOML {
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let line: Int
        public let reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// Parses `text`; returns the root table and, for every dotted key path
    /// ("socket.mode"), the line that set it.
    public static func parse(_ text: String) throws -> (TOMLValue, TOMLLines) {
        var root: [String: TOMLValue] = [:]
        var lines: TOMLLines = [:]
        var table: [String] = []
        var definedTables: Set<String> = []
        let rawLines = text.components(separatedBy: "\n")
        var index = 0
        while index < rawLines.count {
            let number = index + 1
            var line = rawLines[index]
            index += 1
            if line.hasSuffix("\r") { line.removeLast() }
            var scanner = Scanner(line, number: number)
            scanner.skipSpaces()
            if scanner.atEndOrComment { continue }
            if scanner.peek == "[" {
                scanner.advance()
                if scanner.peek == "[" { throw ParseError(line: number, reason: "arrays of tables ([[...]]) are not supported") }
                let path = try scanner.keyPath(until: "]")
                scanner.advance()
                scanner.skipSpaces()
                guard scanner.atEndOrComment else { throw ParseError(line: number, reason: "unexpected text after the table header") }
                let joined = path.joined(separator: ".")
                guard definedTables.insert(joined).inserted else {
                    throw ParseError(line: number, reason: "table [\(joined)] is defined twice")
                }
                try ensureTable(&root, path, line: number)
                table = path
                lines[joined] = number
                continue
            }
            let key = try scanner.keyPath(until: "=")
            scanner.advance()  // '='
            scanner.skipSpaces()
            // An array may continue on following lines: join until brackets balance.
            var valueText = String(scanner.rest)
            while Scanner.openBrackets(in: valueText) > 0 && index < rawLines.count {
                valueText += "\n" + rawLines[index]
                index += 1
            }
            var valueScanner = Scanner(valueText, number: number)
            let value = try valueScanner.value()
            valueScanner.skipSpacesAndNewlines()
            guard valueScanner.atEndOrComment else {
                throw ParseError(line: number, reason: "unexpected text after the value of '\(key.joined(separator: "."))'")
            }
            let full = table + key
            try insert(&root, full, value, line: number)
            lines[full.joined(separator: ".")] = number
        }
        return (.table(root), lines)
    }

    private static func ensureTable(_ root: inout [String: TOMLValue], _ path: [String], line: Int) throws {
        guard let first = path.first else { return }
        var child: [String: TOMLValue]
        switch root[first] {
        case nil: child = [:]
        case .table(let existing): child = existing
        default: throw ParseError(line: line, reason: "'\(first)' is already a value, not a table")
        }
        try ensureTable(&child, Array(path.dropFirst()), line: line)
        root[first] = .table(child)
    }

    private static func insert(_ root: inout [String: TOMLValue], _ path: [String], _ value: TOMLValue, line: Int) throws {
        let key = path[0]
        if path.count == 1 {
            guard root[key] == nil else { throw ParseError(line: line, reason: "key '\(key)' is set twice") }
            root[key] = value
            return
        }
        var child: [String: TOMLValue]
        switch root[key] {
        case nil: child = [:]
        case .table(let existing): child = existing
        default: throw ParseError(line: line, reason: "'\(key)' is already a value, not a table")
        }
        try insert(&child, Array(path.dropFirst()), value, line: line)
        root[key] = .table(child)
    }

    /// A cursor over one logical line.
    struct Scanner {
        let chars: [Character]
        var position = 0
        var line: Int

        init(_ text: String, number: Int) {
            chars = Array(text)
            line = number
        }

        var peek: Character? { position < chars.count ? chars[position] : nil }
        var rest: Substring { Substring(String(chars[position...])) }
        var atEndOrComment: Bool { peek == nil || peek == "#" }

        mutating func advance() {
            if peek == "\n" { line += 1 }
            position += 1
        }

        mutating func skipSpaces() { while peek == " " || peek == "\t" { advance() } }
        mutating func skipSpacesAndNewlines() {
            while let c = peek, c == " " || c == "\t" || c == "\n" || c == "\r" || c == "#" {
                if c == "#" { while let d = peek, d != "\n" { _ = d; advance() } } else { advance() }
            }
        }

        func error(_ reason: String) -> ParseError { ParseError(line: line, reason: reason) }

        /// Counts '[' minus ']' outside strings and comments.
        static func openBrackets(in text: String) -> Int {
            var depth = 0
            var quote: Character?
            var escaped = false
            var comment = false
            for c in text {
                if comment {
                    if c == "\n" { comment = false }
                    continue
                }
                if let q = quote {
                    if escaped { escaped = false } else if c == "\\" && q == "\"" { escaped = true } else if c == q { quote = nil }
                    continue
                }
                switch c {
                case "\"", "'": quote = c
                case "[": depth += 1
                case "]": depth -= 1
                case "#": comment = true
                default: break
                }
            }
            return depth
        }

        mutating func keyPath(until terminator: Character) throws -> [String] {
            var parts: [String] = []
            while true {
                skipSpaces()
                parts.append(try key())
                skipSpaces()
                if peek == "." {
                    advance()
                    continue
                }
                guard peek == terminator else {
                    throw error(peek == nil ? "expected '\(terminator)'" : "unexpected '\(peek!)' in a key")
                }
                return parts
            }
        }

        mutating func key() throws -> String {
            if peek == "\"" || peek == "'" {
                guard case .string(let text) = try value() else { throw error("bad quoted key") }
                return text
            }
            var text = ""
            while let c = peek, c.isASCII, c.isLetter || c.isNumber || c == "_" || c == "-" {
                text.append(c)
                advance()
            }
            guard !text.isEmpty else { throw error(peek == nil ? "a key is missing" : "unexpected '\(peek!)' where a key should be") }
            return text
        }

        mutating func value() throws -> TOMLValue {
            skipSpaces()
            guard let c = peek else { throw error("a value is missing") }
            switch c {
            case "\"":
                if chars[position...].starts(with: ["\"", "\"", "\""]) { throw error("multi-line strings are not supported") }
                return .string(try basicString())
            case "'":
                if chars[position...].starts(with: ["'", "'", "'"]) { throw error("multi-line strings are not supported") }
                advance()
                var text = ""
                while let d = peek, d != "'" {
                    guard d != "\n" else { throw error("unterminated string") }
                    text.append(d)
                    advance()
                }
                guard peek == "'" else { throw error("unterminated string") }
                advance()
                return .string(text)
            case "[":
                advance()
                var items: [TOMLValue] = []
                while true {
                    skipSpacesAndNewlines()
                    if peek == "]" {
                        advance()
                        return .array(items)
                    }
                    items.append(try value())
                    skipSpacesAndNewlines()
                    if peek == "," {
                        advance()
                    } else if peek != "]" {
                        throw error("expected ',' or ']' in an array")
                    }
                }
            case "{":
                throw error("inline tables are not supported; use a [table] header")
            default:
                var word = ""
                while let d = peek, !(d == " " || d == "\t" || d == "," || d == "]" || d == "#" || d == "\n") {
                    word.append(d)
                    advance()
                }
                return try scalar(word)
            }
        }

        mutating func basicString() throws -> String {
            advance()  // opening quote
            var text = ""
            while let c = peek {
                advance()
                switch c {
                case "\"": return text
                case "\n": throw error("unterminated string")
                case "\\":
                    guard let e = peek else { throw error("unterminated string") }
                    advance()
                    switch e {
                    case "\"": text.append("\"")
                    case "\\": text.append("\\")
                    case "n": text.append("\n")
                    case "t": text.append("\t")
                    case "r": text.append("\r")
                    case "b": text.append("\u{8}")
                    case "f": text.append("\u{c}")
                    case "u", "U":
                        let count = e == "u" ? 4 : 8
                        var hex = ""
                        for _ in 0..<count {
                            guard let h = peek, h.isHexDigit else { throw error("bad \\\(e) escape") }
                            hex.append(h)
                            advance()
                        }
                        guard let scalar = UInt32(hex, radix: 16).flatMap(Unicode.Scalar.init) else {
                            throw error("\\\(e)\(hex) is not a Unicode scalar")
                        }
                        text.unicodeScalars.append(scalar)
                    default: throw error("unknown escape \\\(e)")
                    }
                default: text.append(c)
                }
            }
            throw error("unterminated string")
        }

        func scalar(_ word: String) throws -> TOMLValue {
            switch word {
            case "true": return .boolean(true)
            case "false": return .boolean(false)
            case "": throw error("a value is missing")
            default: break
            }
            let clean = word.replacingOccurrences(of: "_", with: "")
            for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where clean.hasPrefix(prefix) {
                guard let number = Int64(clean.dropFirst(2), radix: radix) else { throw error("'\(word)' is not a number") }
                return .integer(number)
            }
            if let number = Int64(clean) {
                if clean.count > 1, clean.hasPrefix("0") { throw error("'\(word)': leading zeros are not allowed (use 0o for octal)") }
                return .integer(number)
            }
            if clean.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let number = Double(clean) { return .float(number) }
            if word.first?.isNumber == true && (word.contains("-") || word.contains(":")) {
                throw error("dates and times are not supported ('\(word)')")
            }
            throw error("'\(word)' is not a value (strings need quotes)")
        }
    }
}
