import Foundation
import Testing
@testable import VirtHostServer

/// virthostd.toml: the shipped file, the TOML reader, and clear errors.
@Suite struct ConfigurationTests {
    @Test func theShippedFileParsesToTheDefaults() throws {
        let path = DaemonHarness.repoRoot.appendingPathComponent("packaging/virthostd.toml").path
        let config = try DaemonConfiguration.load(path: path)
        let defaults = DaemonSettings()
        #expect(config.daemon.libvirtURI == defaults.libvirtURI)
        #expect(config.daemon.socketPath == defaults.socketPath)
        #expect(config.daemon.socketMode == 0o660)
        #expect(config.daemon.socketGroup == "virthost")
        #expect(config.daemon.readOnlySocketPath == nil)
        // The package serves ttrpc beside the main socket (the CLI's default
        // when it exists); built in, there is none.
        #expect(config.daemon.ttrpcSocketPath == "/run/virthost/virthost-ttrpc.sock")
        #expect(defaults.ttrpcSocketPath == nil)
        #expect(config.daemon.access == AccessPolicy())
        #expect(config.daemon.limits == CallLimits())
        #expect(config.daemon.eventBuffer == defaults.eventBuffer)
        #expect(config.guestAgentPolicy == GuestAgentPolicy())
        #expect(config.logLevel == "info")
        #expect(config.shutdownGraceSeconds == 10)
    }

    @Test func readsEveryKindOfValue() throws {
        let config = try DaemonConfiguration.parse("""
            # a comment
            connect = 'test:///default'   # literal string
            libvirt_threads = 8
            [socket]
            path = "/tmp/vhu-x/agent.sock"
            mode = "0600"
            read_only_path = "/tmp/vhu-x/ro.sock"
            [access]
            admin_uids = [0, 1_000]
            operator_groups = [
              0,   # root's group
            ]
            default_role = "none"
            [limits]
            default_deadline_seconds = 2.5
            max_message_bytes = 0x10000
            [guest_agent]
            deny = ["guest-exec*", "guest-file-open"]
            """)
        #expect(config.daemon.libvirtURI == "test:///default")
        #expect(config.daemon.libvirtThreads == 8)
        #expect(config.daemon.socketMode == 0o600)
        #expect(config.daemon.readOnlySocketPath == "/tmp/vhu-x/ro.sock")
        #expect(config.daemon.access.adminUIDs == [0, 1000])
        #expect(config.daemon.access.operatorGroups == [0])
        #expect(config.daemon.access.defaultRole == Role.none)
        #expect(config.daemon.limits.defaultDeadlineSeconds == 2.5)
        #expect(config.daemon.limits.maxMessageBytes == 65536)
        #expect(config.guestAgentPolicy.deny == ["guest-exec*", "guest-file-open"])
    }

    @Test(arguments: [
        ("connect = \"a\"\nbogus = 1", 2, "unknown option 'bogus'"),
        ("[socket]\nmode = 660", 2, "socket.mode: expected a string"),
        ("[socket]\nmode = \"999\"", 2, "expected an octal mode"),
        ("libvirt_threads = 0", 1, "outside 1...256"),
        ("[access]\ndefault_role = \"boss\"", 2, "expected none, reader, operator or admin"),
        ("[access]\nadmin_groups = [\"no-such-group-vhu\"]", 2, "no group named 'no-such-group-vhu'"),
        ("[access]\nadmin_uids = [\"no-such-user-vhu\"]", 2, "no user named 'no-such-user-vhu'"),
        ("connect = \"unterminated", 1, "unterminated string"),
        ("connect = qemu", 1, "strings need quotes"),
        ("[socket]\n[socket]", 2, "defined twice"),
        ("connect = \"a\"\nconnect = \"b\"", 2, "set twice"),
        ("[limits]\nmax_concurrent_calls = { a = 1 }", 2, "inline tables"),
        ("\n\n[[x]]", 3, "arrays of tables"),
        ("log_level = \"loud\"", 1, "expected one of"),
        ("[guest_agent]\nallow = [\"guest exec\"]", 2, "may hold only"),
        ("[limits]\ndefault_deadline_seconds = 1979-05-27", 2, "dates and times"),
        ("x = 007", 1, "leading zeros"),
    ])
    func mistakesNameTheLineAndTheReason(text: String, line: Int, reason: String) {
        do {
            _ = try DaemonConfiguration.parse(text, path: "test.toml")
            Issue.record("accepted: \(text)")
        } catch let error as DaemonConfiguration.Invalid {
            #expect(error.line == line, "\(error)")
            #expect(error.description.contains(reason), "\(error)")
            #expect(error.description.hasPrefix("test.toml:\(line): "))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func tomlStringsAndArrays() throws {
        let (value, lines) = try TOML.parse("""
            [a.b]
            s = "tab\\tquote\\" \\u00e9"
            "quoted key" = [ "x", 'y' ]
            n = -42
            """)
        guard case .table(let root) = value, case .table(let a) = root["a"], case .table(let b) = a["b"] else {
            Issue.record("no table a.b")
            return
        }
        #expect(b["s"] == .string("tab\tquote\" é"))
        #expect(b["quoted key"] == .array([.string("x"), .string("y")]))
        #expect(b["n"] == .integer(-42))
        #expect(lines["a.b.n"] == 4)
    }
}
