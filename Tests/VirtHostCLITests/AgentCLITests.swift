import ArgumentParser
import Foundation
import Testing
import VirtHostClient
@testable import VirtHostCLI

/// `virthost agent` and `virthost snapshot`: parsing, formatting, and the
/// snapshot commands against the test driver (it has no guest agent; the
/// agent commands run against a real guest in EndToEndTests).
@Suite struct AgentCLITests {
    @Test func snapshotCommandsOnTheTestDriver() async throws {
        try await CLIHarness.withAgent { socket in
            let created = try await CLIHarness.run(["--socket", socket, "snapshot", "create", "web-1", "s1", "--description", "first"])
            #expect(created == "Domain snapshot s1 created\n")
            _ = try await CLIHarness.run(["--socket", socket, "snapshot", "create", "web-1", "s2"])
            let table = try await CLIHarness.run(["--socket", socket, "snapshot", "list", "web-1"])
            let lines = table.split(separator: "\n").map(String.init)
            #expect(lines.first?.contains("Creation Time") == true && lines.first?.contains("Parent") == true)
            #expect(lines.count == 4)
            #expect(lines[3].contains("s2") && lines[3].contains("s1") && lines[3].contains("yes"))
            let json = try await CLIHarness.run(["--socket", socket, "--json", "snapshot", "list", "web-1"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            let array = try #require(object["snapshots"] as? [[String: Any]])
            #expect(array.map { $0["name"] as? String } == ["s1", "s2"])
            #expect(array[0]["description"] as? String == "first")
            #expect(array[1]["parent"] as? String == "s1")
            let xml = try await CLIHarness.run(["--socket", socket, "snapshot", "xml", "web-1", "s1"])
            #expect(xml.hasPrefix("<domainsnapshot>") && xml.contains("<description>first</description>"))
            #expect(try await CLIHarness.run(["--socket", socket, "snapshot", "revert", "web-1", "s1"]) == "Domain snapshot s1 reverted\n")
            #expect(
                try await CLIHarness.run(["--socket", socket, "snapshot", "delete", "web-1", "s1", "--children"])
                    == "Domain snapshot s1 deleted\n")
            let empty = try await CLIHarness.run(["--socket", socket, "--json", "snapshot", "list", "web-1"])
            let none = try JSONSerialization.jsonObject(with: Data(empty.utf8)) as? [String: Any]
            #expect(none != nil && none?["snapshots"] == nil)
        }
    }

    @Test func agentCommandsReachTheAgent() async throws {
        try await CLIHarness.withAgent { socket in
            // The test driver has no guest agent: libvirt's own refusal comes back.
            do {
                _ = try await CLIHarness.run(["--socket", socket, "agent", "ping", "web-1"])
                Issue.record("ping on the test driver succeeded")
            } catch let error as VirtHostError {
                #expect(error.code == .unimplemented)
            }
            // A malformed command is refused before libvirt.
            do {
                _ = try await CLIHarness.run(["--socket", socket, "agent", "command", "web-1", "[1]"])
                Issue.record("a JSON array was accepted")
            } catch let error as VirtHostError {
                #expect(error.code == .invalidArgument)
                #expect(error.description.contains("JSON array"))
            }
        }
    }

    @Test func argumentsAreChecked() throws {
        #expect(throws: (any Error).self) {
            _ = try VirtHostCommand.parseAsRoot(["agent", "command", "d", "{}", "--timeout", "2", "--block"])
        }
        #expect(throws: (any Error).self) { _ = try VirtHostCommand.parseAsRoot(["agent", "ping", "d", "--timeout", "0"]) }
        #expect(throws: (any Error).self) { _ = try VirtHostCommand.parseAsRoot(["agent", "exec", "d"]) }
        let exec = try VirtHostCommand.parseAsRoot(["agent", "exec", "d", "--env", "A=b", "--", "/bin/sh", "-c", "echo --x"])
        let parsed = try #require(exec as? AgentCommand.Exec)
        #expect(parsed.command == ["/bin/sh", "-c", "echo --x"])
        #expect(parsed.env == ["A=b"])
        _ = try VirtHostCommand.parseAsRoot(["snapshot", "create", "d", "n", "--disk-only", "--quiesce"])
    }

    @Test func prettyJSONKeepsOrderAndNumbers() {
        #expect(PrettyJSON.indent(#"{"return":{}}"#) == "{\n  \"return\": {}\n}")
        let reply = #"{"return":{"z":1795913978400623000,"a":[1,{"b":"x,y:{z}"}],"e":[]}}"#
        #expect(PrettyJSON.indent(reply) == """
            {
              "return": {
                "z": 1795913978400623000,
                "a": [
                  1,
                  {
                    "b": "x,y:{z}"
                  }
                ],
                "e": []
              }
            }
            """)
        #expect(PrettyJSON.indent(#"{"a":"q\"uote"}"#) == "{\n  \"a\": \"q\\\"uote\"\n}")
    }

    @Test func execExitCodesFollowTheProgram() {
        #expect(AgentCommand.exitCode(.with { $0.exited = true; $0.exitCode = 7 }) == 7)
        #expect(AgentCommand.exitCode(.with { $0.exited = true; $0.signal = 9 }) == 137)
        #expect(AgentCommand.exitCode(.with { $0.exited = false }) == 124)
        #expect(AgentCommand.exitCode(.with { $0.exited = true }) == 0)
    }

    @Test func interfaceTableLooksLikeDomifaddr() {
        let interfaces: [Virthost_V1_GuestInterface] = [
            .with {
                $0.name = "lo"
                $0.mac = "00:00:00:00:00:00"
                $0.addresses = [
                    .with { $0.type = "ipv4"; $0.address = "127.0.0.1"; $0.prefix = 8 },
                    .with { $0.type = "ipv6"; $0.address = "::1"; $0.prefix = 128 },
                ]
            },
            .with { $0.name = "eth0"; $0.mac = "52:54:00:12:34:56" },
        ]
        let lines = AgentCommand.interfaceTable(interfaces).render().split(separator: "\n").map(String.init)
        #expect(lines[0] == " Name   MAC address         Protocol   Address")
        #expect(lines[2] == " lo     00:00:00:00:00:00   ipv4       127.0.0.1/8")
        #expect(lines[3] == " -      -                   ipv6       ::1/128")
        #expect(lines[4] == " eth0   52:54:00:12:34:56   N/A        N/A")
    }
}
