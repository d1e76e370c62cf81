import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Testing
import VirtHostClient
@testable import VirtHostServer

/// Raw guest-agent commands: every malformed one is INVALID_ARGUMENT before
/// libvirt sees it. The proof of "before libvirt": the same commands sent for
/// a machine that does not exist still say INVALID_ARGUMENT (libvirt would
/// say NOT_FOUND), and for a machine of the test driver, which has no guest
/// agent support, a well-formed command says UNIMPLEMENTED (libvirt's "not
/// supported") while the malformed ones never get that far.
@Suite struct GuestAgentCommandValidatorTests {
    @Test func corpusHasOverTwoHundredDistinctCommands() {
        let corpus = MalformedCommands.all
        #expect(corpus.count >= 200)
        #expect(Set(corpus.map(\.bytes)).count == corpus.count, "corpus entries are not distinct")
        let kinds = Set(corpus.map(\.kind))
        let counts = Dictionary(grouping: corpus, by: \.kind).mapValues(\.count)
        print("malformed corpus: \(corpus.count) commands; " + counts.keys.sorted().map { "\($0) \(counts[$0]!)" }.joined(separator: ", "))
        for kind in ["not JSON", "array", "other JSON kind", "missing execute", "non-string execute", "bad name",
                     "bad arguments", "extra member", "duplicate key", "huge", "deeply nested", "invalid UTF-8",
                     "bad escape", "truncated"] {
            #expect(kinds.contains(kind), "no \(kind) entries")
        }
    }

    @Test func everyMalformedCommandIsRefusedWithAReason() {
        for entry in MalformedCommands.all {
            do {
                let command = try GuestAgentCommandValidator.validate(entry.bytes)
                Issue.record("accepted (\(entry.kind)) \(entry.label): execute=\(command.execute)")
            } catch {
                #expect(!error.message.isEmpty)
                #expect(error.message.utf8.count < 400, "overlong message for \(entry.label)")
            }
        }
    }

    @Test func wellFormedCommandsPass() throws {
        let valid: [(String, String)] = [
            (#"{"execute":"guest-ping"}"#, "guest-ping"),
            (#"  {"execute" : "guest-info" , "arguments" : { } }  "#, "guest-info"),
            ("{\n\t\"execute\": \"guest-exec\",\r\n \"arguments\": {\"path\": \"/bin/sh\", \"arg\": [\"-c\", \"echo \\u00e9\\n\"]}}",
             "guest-exec"),
            (#"{"arguments":{"pid":12},"execute":"guest-exec-status"}"#, "guest-exec-status"),
            (#"{"execute":"guest-sync","arguments":{"id":-1.5e3},"id":"abc"}"#, "guest-sync"),
            (#"{"execute":"guest-ping","id":null}"#, "guest-ping"),
            (#"{"execute":"guest-file-write","arguments":{"handle":1,"buf-b64":"aGk=","x":[true,false,null,0,-0,0.5,1E+2]}}"#,
             "guest-file-write"),
            (#"{"execute":"guest-ping","arguments":{"emoji":"😀","pair":"\ud83d\ude00","slash":"\/"}}"#, "guest-ping"),
            (#"{"execute":"__com.example_cmd"}"#, "__com.example_cmd"),
            (#"{"execute":"guest-ping","arguments":{"a":{"a":1},"b":{"a":2}}}"#, "guest-ping"),  // same key, other objects
        ]
        for (json, execute) in valid {
            let command = try GuestAgentCommandValidator.validate(json)
            #expect(command.execute == execute, "\(json)")
        }
        // The limits themselves are allowed.
        let deepest = MalformedCommands.nested(depth: GuestAgentCommandValidator.maxDepth, open: "[", close: "]")
        #expect(throws: Never.self) { try GuestAgentCommandValidator.validate(deepest) }
        let largest = MalformedCommands.padded(to: GuestAgentCommandValidator.maxBytes)
        #expect(largest.utf8.count == GuestAgentCommandValidator.maxBytes)
        #expect(throws: Never.self) { try GuestAgentCommandValidator.validate(largest) }
    }

    @Test func messagesSayWhatIsWrong() {
        func message(_ json: String) -> String {
            do {
                _ = try GuestAgentCommandValidator.validate(json)
                return "accepted"
            } catch {
                return error.message
            }
        }
        #expect(message("[]").contains("JSON array"))
        #expect(message(#""guest-ping""#).contains("JSON string"))
        #expect(message("{}").contains("no \"execute\""))
        #expect(message(#"{"execute":42}"#).contains("must be a string"))
        #expect(message(#"{"execute":"guest-ping","arguments":[]}"#).contains("\"arguments\" must be a JSON object"))
        #expect(message(#"{"execute":"guest-ping","execute":"guest-exec"}"#).contains("twice"))
        #expect(message(#"{"execute":"guest-ping","\u0065xecute":"guest-exec"}"#).contains("twice"))
        #expect(message(#"{"execute":"guest-ping","exec-oob":"x"}"#).contains("only \"execute\", \"arguments\" and \"id\""))
        #expect(message(MalformedCommands.nested(depth: 65, open: "[", close: "]")).contains("deeper than 64"))
        #expect(message(MalformedCommands.padded(to: GuestAgentCommandValidator.maxBytes + 1)).contains("limit is 1048576"))
        #expect(message(#"{"execute":"guest-ping"} x"#).contains("after the JSON object"))
        #expect(message(#"{"execute":"guest-ping","arguments":{"a":"\u0000"}}"#).contains("NUL"))
        #expect(message(#"{"execute":"guest-ping","arguments":{"a":"\ud800"}}"#).contains("surrogate"))
        #expect(message(#"{"execute":"guest ping"}"#).contains("not a command name"))
        do {
            _ = try GuestAgentCommandValidator.validate([0x7B, 0xFF, 0x7D])
            Issue.record("0xFF accepted")
        } catch {
            #expect(error.message.contains("not valid UTF-8") && error.message.contains("0xFF") && error.message.contains("byte 1"))
        }
    }

    @Test func utf8CheckerAgreesWithSwift() {
        // Every 1- and 2-byte sequence, and a sample of 3- and 4-byte ones.
        var samples: [[UInt8]] = (0...255).map { [UInt8($0)] }
        for a in 0xC0...0xF5 { for b in stride(from: 0x00, through: 0xFF, by: 7) { samples.append([UInt8(a), UInt8(b)]) } }
        for a in [0xE0, 0xED, 0xEF, 0xF0, 0xF4] {
            for b in [0x80, 0x9F, 0xA0, 0xBF] { samples.append([UInt8(a), UInt8(b), 0x80]); samples.append([UInt8(a), UInt8(b), 0x80, 0x80]) }
        }
        for bytes in samples {
            let swiftValid = String(validating: bytes, as: UTF8.self) != nil
            #expect((GuestAgentCommandValidator.firstInvalidUTF8(bytes) == nil) == swiftValid, "\(bytes)")
        }
    }

    /// The whole corpus over the socket, for a machine that does not exist
    /// and for one that exists on a driver without agent support.
    @Test func overTheSocketNothingReachesLibvirt() async throws {
        try await DaemonHarness.withAgent { client, _ in
            // Sanity: well-formed commands do reach libvirt.
            let missing = await DaemonHarness.error {
                _ = try await client.agentCommand(domain: "no-such-domain", json: #"{"execute":"guest-ping"}"#)
            }
            #expect(missing?.code == .notFound)
            let unsupported = await DaemonHarness.error {
                _ = try await client.agentCommand(domain: "web-1", json: #"{"execute":"guest-ping"}"#)
            }
            #expect(unsupported?.code == .unimplemented)
            #expect(unsupported?.libvirtCodeName == "VIR_ERR_NO_SUPPORT")

            var sent = 0
            for entry in MalformedCommands.all {
                // proto3 strings are UTF-8: invalid UTF-8 goes as raw bytes below.
                guard let json = String(validating: entry.bytes, as: UTF8.self) else { continue }
                for domain in ["no-such-domain", "web-1"] {
                    let error = await DaemonHarness.error { _ = try await client.agentCommand(domain: domain, json: json) }
                    #expect(error?.code == .invalidArgument, "\(entry.kind) \(entry.label) for \(domain): \(String(describing: error))")
                    #expect(error?.libvirtCode == nil)
                    sent += 1
                }
            }
            #expect(sent >= 400)
        }
    }

    /// A hand-built AgentCommandRequest whose `command` field holds invalid
    /// UTF-8: the server refuses it while decoding, as INVALID_ARGUMENT.
    @Test func invalidUTF8OnTheWireIsInvalidArgument() async throws {
        try await DaemonHarness.withAgent { _, socket in
            let transport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: socket), transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { grpc in
                let descriptor = MethodDescriptor(fullyQualifiedService: "virthost.v1.GuestAgentService", method: "Command")
                for command in MalformedCommands.invalidUTF8.map(\.bytes) {
                    // field 1 (domain): DomainRef{name = "no-such-domain"}; field 2 (command): the raw bytes.
                    let name = Array("no-such-domain".utf8)
                    var message: [UInt8] = [0x0A, UInt8(name.count + 2), 0x0A, UInt8(name.count)] + name
                    message += [0x12] + varint(command.count) + command
                    do {
                        _ = try await grpc.unary(
                            request: ClientRequest(message: message), descriptor: descriptor,
                            serializer: RawBytes(), deserializer: RawBytes(), options: .defaults
                        ) { try $0.message }
                        Issue.record("invalid UTF-8 \(command.prefix(8)) was accepted")
                    } catch let convertible as any RPCErrorConvertible {
            let error = RPCError(convertible)
                        #expect(error.code == .invalidArgument, "\(error)")
                    }
                }
            }
        }
    }

    func varint(_ value: Int) -> [UInt8] {
        var value = UInt64(value)
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            out.append(byte)
        } while value != 0
        return out
    }
}

/// Sends and receives message bytes as they are.
struct RawBytes: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

/// At least 200 commands that must never reach libvirt, by kind.
enum MalformedCommands {
    struct Entry {
        let kind: String
        let label: String
        let bytes: [UInt8]
    }

    static func text(_ kind: String, _ items: [String]) -> [Entry] {
        items.map { Entry(kind: kind, label: String($0.prefix(60)), bytes: Array($0.utf8)) }
    }

    static func nested(depth: Int, open: String, close: String, inner: String = "1") -> String {
        // depth counts the command object itself as level 1.
        let levels = depth - 2
        let value = String(repeating: open == "[" ? "[" : "{\"k\":", count: levels) + inner
            + String(repeating: close, count: levels)
        return #"{"execute":"guest-ping","arguments":{"v":"# + value + "}}"
    }

    /// A valid command padded to exactly `size` bytes.
    static func padded(to size: Int) -> String {
        let head = #"{"execute":"guest-ping","arguments":{"pad":""#
        let tail = "\"}}"
        return head + String(repeating: "x", count: size - head.utf8.count - tail.utf8.count) + tail
    }

    static let valid = #"{"execute":"guest-ping","arguments":{"a":[true,2.5,{"b":null}],"c":"d"}}"#

    static var all: [Entry] {
        var entries: [Entry] = []
        entries += text("not JSON", [
            "", " ", "\n\t ", "hello", "guest-ping", "{", "}", "{]", "{{}}", "{\"execute\"}", "{\"execute\":}",
            "{\"execute\" \"guest-ping\"}", "{'execute':'guest-ping'}", "{execute:\"guest-ping\"}",
            "{\"execute\":\"guest-ping\",}", "{,\"execute\":\"guest-ping\"}", "{\"execute\":\"guest-ping\";}",
            "{\"execute\":\"guest-ping\" /* c */}", "// c\n{\"execute\":\"guest-ping\"}", "{\"execute\":guest-ping}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":NaN}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":Infinity}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":-Infinity}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":undefined}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":01}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":1.}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":.5}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":-}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":1e}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":+1}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":0x10}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":1.2.3}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":1e+}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":--1}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":tru}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":True}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":NULL}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":nul}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":falsey}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":[1,]}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":[,1]}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":[1 2]}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\" 1}}", "{\"execute\":\"guest-ping\",\"arguments\":{1:2}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":'x'}}", "{\"execute\":\"guest-ping\"}}",
            "{\"execute\":\"guest-ping\"} {\"execute\":\"guest-ping\"}", "{\"execute\":\"guest-ping\"}x",
            "{\"execute\":\"guest-ping\"}]", "{\"execute\":\"guest-ping\"}\u{0}", "\u{feff}{\"execute\":\"guest-ping\"}",
            "{\"execute\":\"guest-ping\"\u{a0}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"x\"\"y\"}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\u{1}}}", "<execute>guest-ping</execute>",
            "execute=guest-ping", "{\"execute\":\"guest-ping\"\n", "\u{0}",
        ])
        entries += text("array", [
            "[]", "[{\"execute\":\"guest-ping\"}]", "[\"execute\",\"guest-ping\"]", "[[]]", " [ ] ",
            "[{\"execute\":\"guest-ping\"},{\"execute\":\"guest-info\"}]", "[1,2,3]", "[null]",
        ])
        entries += text("other JSON kind", [
            "1", "0", "-1.5e3", "\"guest-ping\"", "\"{\\\"execute\\\":\\\"guest-ping\\\"}\"", "true", "false", "null",
        ])
        entries += text("missing execute", [
            "{}", "{\"arguments\":{}}", "{\"id\":1}", "{\"Execute\":\"guest-ping\"}", "{\"EXECUTE\":\"guest-ping\"}",
            "{\"arguments\":{\"execute\":\"guest-ping\"}}", "{\"id\":\"guest-ping\",\"arguments\":{}}",
        ])
        entries += text("non-string execute", [
            "{\"execute\":1}", "{\"execute\":-1}", "{\"execute\":1.5}", "{\"execute\":true}", "{\"execute\":false}",
            "{\"execute\":null}", "{\"execute\":[]}", "{\"execute\":[\"guest-ping\"]}", "{\"execute\":{}}",
            "{\"execute\":{\"name\":\"guest-ping\"}}",
        ])
        entries += text("bad name", [
            "{\"execute\":\"\"}", "{\"execute\":\"guest ping\"}", "{\"execute\":\"guest-ping;reboot\"}",
            "{\"execute\":\"guest-ping\\n\"}", "{\"execute\":\"guest/ping\"}", "{\"execute\":\"gäst-ping\"}",
            "{\"execute\":\"guest-ping\\u0001\"}", "{\"execute\":\"\(String(repeating: "a", count: 129))\"}",
            "{\"execute\":\"guest-ping\",\"arguments\":{},\"execute\":\"x\"}", "{\"execute\":\"$(reboot)\"}",
            "{\"execute\":\"guest-ping*\"}",
        ])
        entries += text("bad arguments", [
            "{\"execute\":\"guest-ping\",\"arguments\":[]}", "{\"execute\":\"guest-ping\",\"arguments\":[1]}",
            "{\"execute\":\"guest-ping\",\"arguments\":\"\"}", "{\"execute\":\"guest-ping\",\"arguments\":\"{}\"}",
            "{\"execute\":\"guest-ping\",\"arguments\":1}", "{\"execute\":\"guest-ping\",\"arguments\":null}",
            "{\"execute\":\"guest-ping\",\"arguments\":true}", "{\"execute\":\"guest-ping\",\"arguments\":{}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\"}}",
        ])
        entries += text("extra member", [
            "{\"execute\":\"guest-ping\",\"foo\":1}", "{\"execute\":\"guest-ping\",\"exec-oob\":\"guest-ping\"}",
            "{\"execute\":\"guest-ping\",\"Arguments\":{}}", "{\"execute\":\"guest-ping\",\"\":1}",
            "{\"execute\":\"guest-ping\",\"execute \":\"guest-exec\"}", "{\"execute\":\"guest-ping\",\"execute\\u0000\":\"guest-exec\"}",
            "{\"execute\":\"guest-ping\",\"control\":{\"run-oob\":true}}",
        ])
        entries += text("duplicate key", [
            "{\"execute\":\"guest-ping\",\"execute\":\"guest-exec\"}", "{\"execute\":\"guest-exec\",\"execute\":\"guest-ping\"}",
            "{\"execute\":\"guest-ping\",\"\\u0065xecute\":\"guest-exec\"}", "{\"execute\":\"guest-ping\",\"exec\\u0075te\":\"guest-exec\"}",
            "{\"execute\":\"guest-ping\",\"arguments\":{},\"arguments\":{}}", "{\"execute\":\"guest-ping\",\"id\":1,\"id\":2}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":1,\"a\":2}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":1,\"\\u0061\":2}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"x\":{\"b\":1,\"b\":1}}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"x\":[{\"b\":1,\"b\":1}]}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"\\/\":1,\"/\":2}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"é\":1,\"\\u00e9\":2}}",
        ])
        entries += text("huge", [
            padded(to: GuestAgentCommandValidator.maxBytes + 1), padded(to: 2 << 20), padded(to: 3_800_000),
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":[" + Array(repeating: "0", count: 600_000).joined(separator: ",") + "]}}",
        ])
        entries += text("deeply nested", [
            nested(depth: 65, open: "[", close: "]"), nested(depth: 65, open: "{", close: "}"), nested(depth: 100, open: "[", close: "]"),
            nested(depth: 129, open: "{", close: "}"), nested(depth: 200, open: "[", close: "]"), nested(depth: 1000, open: "[", close: "]"),
            nested(depth: 100_000, open: "[", close: "]"), nested(depth: 100_000, open: "{", close: "}"),
            "{\"execute\":\"guest-ping\",\"arguments\":{\"v\":" + String(repeating: "[", count: 300_000) + "}}",  // unclosed
            "{\"execute\":\"guest-ping\",\"id\":" + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}",
        ])
        entries += invalidUTF8
        // UTF-16 is valid UTF-8 byte for byte here (NULs), but not JSON.
        entries.append(Entry(kind: "not JSON", label: "UTF-16LE command", bytes: Array(#"{"execute":"guest-ping"}"#.utf16).flatMap {
            [UInt8($0 & 0xFF), UInt8($0 >> 8)] }))
        entries += text("bad escape", [
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"\\x41\"}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"\\u12\"}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"\\u12G4\"}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"\\ud800\"}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"\\udc00\"}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"\\ud800\\u0041\"}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"\\ud800x\"}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"\\u0000\"}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"\\a\"}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"\\'\"}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"\\\"}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"tab\there\"}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"new\nline\"}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"\u{1f}\"}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"\u{0}\"}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"\\u0000\":1}}",
            "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"\\U0041\"}}", "{\"execute\":\"guest-ping\",\"arguments\":{\"a\":\"\\",
        ])
        // Every proper prefix of a valid command is malformed.
        let validBytes = Array(valid.utf8)
        entries += (1..<validBytes.count).map {
            Entry(kind: "truncated", label: "first \($0) bytes", bytes: Array(validBytes.prefix($0)))
        }
        // So is the valid command with any one structural character removed.
        for (index, byte) in validBytes.enumerated() where "{}[]:,\"".utf8.contains(byte) {
            var bytes = validBytes
            bytes.remove(at: index)
            entries.append(Entry(kind: "missing character", label: "without byte \(index)", bytes: bytes))
        }
        // Keep one entry per distinct byte string.
        var seen = Set<[UInt8]>()
        return entries.filter { seen.insert($0.bytes).inserted }
    }

    /// Invalid UTF-8, inside otherwise well-formed commands.
    static var invalidUTF8: [Entry] {
        let sequences: [[UInt8]] = [
            [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xC2], [0xC2, 0x41], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF],
            [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xE2, 0x82], [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF],
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFE], [0xFF],
            [0xFF, 0xFE], [0xF0, 0x9F, 0x98],
        ]
        var entries: [Entry] = []
        for (index, bad) in sequences.enumerated() {
            let inValue = Array(#"{"execute":"guest-ping","arguments":{"a":""#.utf8) + bad + Array(#""}}"#.utf8)
            entries.append(Entry(kind: "invalid UTF-8", label: "in a value #\(index)", bytes: inValue))
            if index % 4 == 0 {
                let inName = Array(#"{"execute":"guest-"#.utf8) + bad + Array(#""}"#.utf8)
                entries.append(Entry(kind: "invalid UTF-8", label: "in execute #\(index)", bytes: inName))
            }
        }
        entries.append(Entry(kind: "invalid UTF-8", label: "bare 0xFF", bytes: [0xFF]))
        entries.append(Entry(kind: "invalid UTF-8", label: "Latin-1 é in a value", bytes: Array(#"{"execute":"guest-ping","arguments":{"a":"caf"#.utf8) + [0xE9] + Array(#""}}"#.utf8)))
        return entries
    }
}
