import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Testing
import VirtHostClient
import VirtHostServer
@testable import VirtHostCLI

/// The CLI's commands, parsed as a user types them, against a real agent.
@Suite struct CLITests {
    @Test func netListTableShowsEveryNetwork() async throws {
        try await CLIHarness.withAgent { socket in
            let output = try await CLIHarness.run(["--socket", socket, "net", "list"])
            let lines = output.split(separator: "\n").map(String.init)
            #expect(lines.first?.contains("Name") == true)
            #expect(lines.first?.contains("Forward") == true)
            #expect(lines.count == 2 + 4)
            #expect(output.contains("demo-nat") && output.contains("virbr-demo0") && output.contains("192.0.2.1/24"))
            #expect(output.contains("isolated"))
        }
    }

    @Test func jsonListIsTheResponseMessage() async throws {
        try await CLIHarness.withAgent { socket in
            let output = try await CLIHarness.run(["--socket", socket, "--json", "net", "list"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            let array = try #require(object["networks"] as? [[String: Any]])
            #expect(object["next_page_token"] == nil)  // all in one page
            #expect(object["event_epoch"] as? Int != nil)
            #expect(array.map { $0["name"] as? String } == ["demo-bridged", "demo-isolated", "demo-nat", "demo-routed"])
            #expect(array[2]["forward_mode"] as? String == "FORWARD_MODE_NAT")
            #expect(array[2]["bridge"] as? String == "virbr-demo0")
        }
    }

    @Test func jsonOneThingIsAnObject() async throws {
        try await CLIHarness.withAgent { socket in
            let output = try await CLIHarness.run(["--socket", socket, "--json", "domain", "info", "web-1"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            #expect(object["name"] as? String == "web-1")
            #expect(object["vcpus"] as? Int == 2)
            #expect(object["max_memory_kib"] as? Int == 2_097_152)
            let host = try await CLIHarness.run(["--socket", socket, "--json", "host", "info"])
            let hostObject = try #require(try JSONSerialization.jsonObject(with: Data(host.utf8)) as? [String: Any])
            #expect((hostObject["version"] as? [String: Any])?["hypervisor_type"] as? String == "TEST")
            #expect((hostObject["node"] as? [String: Any])?["cpus"] as? Int == 8)
        }
    }

    @Test func optionsMayFollowTheCommand() async throws {
        try await CLIHarness.withAgent { socket in
            let output = try await CLIHarness.run(["pool", "list", "--socket", socket, "--json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            #expect((object["pools"] as? [[String: Any]])?.count == 2)
        }
    }

    @Test func limitAndPageTokenWalkPages() async throws {
        try await CLIHarness.withAgent { socket in
            var names: [String] = []
            var token = ""
            var pages = 0
            repeat {
                let output = try await CLIHarness.run(
                    ["--socket", socket, "--json", "net", "list", "--limit", "3"] + (token.isEmpty ? [] : ["--page-token", token]))
                let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
                let page = try #require(object["networks"] as? [[String: Any]])
                #expect(page.count <= 3)
                names += page.compactMap { $0["name"] as? String }
                token = object["next_page_token"] as? String ?? ""
                pages += 1
            } while !token.isEmpty && pages < 10
            #expect(names == ["demo-bridged", "demo-isolated", "demo-nat", "demo-routed"])
            #expect(pages == 2)
            // The table walks every page itself.
            let table = try await CLIHarness.run(["--socket", socket, "net", "list", "--limit", "1"])
            #expect(["demo-bridged", "demo-isolated", "demo-nat", "demo-routed"].allSatisfy(table.contains))
            let prefixed = try await CLIHarness.run(["--socket", socket, "net", "list", "--prefix", "demo-n"])
            #expect(prefixed.contains("demo-nat") && !prefixed.contains("demo-routed"))
        }
    }

    @Test func domainStatsRuns() async throws {
        try await CLIHarness.withAgent { socket in
            let table = try await CLIHarness.run(["--socket", socket, "domain", "stats"])
            #expect(table.contains("web-1"))
            let output = try await CLIHarness.run(["--socket", socket, "--json", "domain", "stats", "web-1"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            let stats = try #require(object["stats"] as? [[String: Any]])
            #expect(stats.map { $0["name"] as? String } == ["web-1"])
        }
    }

    @Test func everyReadCommandRuns() async throws {
        try await CLIHarness.withAgent { socket in
            let host = try await CLIHarness.run(["--socket", socket, "host", "info"])
            #expect(host.contains("Hypervisor:") && host.contains("TEST"))
            let domains = try await CLIHarness.run(["--socket", socket, "domain", "list"])
            #expect(domains.contains("web-1") && domains.contains("running"))
            let info = try await CLIHarness.run(["--socket", socket, "domain", "info", "db-1"])
            #expect(info.contains("CPU(s):") && info.contains("4"))
            let xml = try await CLIHarness.run(["--socket", socket, "domain", "xml", "db-1"])
            #expect(xml.contains("<domain"))
            let netInfo = try await CLIHarness.run(["--socket", socket, "net", "info", "demo-routed"])
            #expect(netInfo.contains("route"))
            let netXML = try await CLIHarness.run(["--socket", socket, "net", "xml", "demo-nat"])
            #expect(netXML.contains("<network"))
            let pool = try await CLIHarness.run(["--socket", socket, "pool", "info", "demo-images"])
            #expect(pool.contains("/var/lib/libvirt/images"))
            let vols = try await CLIHarness.run(["--socket", socket, "vol", "list", "demo-images"])
            #expect(vols.contains("web-1.qcow2") && vols.contains("20.00 GiB"))
            let vol = try await CLIHarness.run(["--socket", socket, "vol", "info", "demo-images", "db-1.qcow2"])
            #expect(vol.contains("qcow2") && vol.contains("40.00 GiB"))
            let nics = try await CLIHarness.run(["--socket", socket, "iface", "list", "web-1"])
            #expect(nics.contains("52:54:00:00:0a:01") && nics.contains("demo-nat"))
            let disks = try await CLIHarness.run(["--socket", socket, "disk", "list", "db-1"])
            #expect(disks.contains("vda") && disks.contains("cdrom"))
        }
    }

    @Test func lifecycleCommands() async throws {
        try await CLIHarness.withAgent { socket in
            let folder = try AgentFolder.make()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let file = folder + "/vm.xml"
            try """
                <domain type='test'><name>cli-vm</name><memory>65536</memory><os><type>hvm</type></os></domain>
                """.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try await CLIHarness.run(["--socket", socket, "domain", "define", file]).contains("cli-vm"))
            #expect(try await CLIHarness.run(["--socket", socket, "domain", "start", "cli-vm"]).contains("started"))
            #expect(try await CLIHarness.run(["--socket", socket, "domain", "destroy", "cli-vm"]).contains("destroyed"))
            #expect(try await CLIHarness.run(["--socket", socket, "domain", "undefine", "cli-vm"]).contains("undefined"))
        }
    }

    @Test func createFromPartsAndTheRestOfTheLifecycle() async throws {
        try await CLIHarness.withAgent { socket in
            let created = try await CLIHarness.run([
                "--socket", socket, "domain", "create", "cli-typed", "--vcpus", "2", "--memory", "256M",
                "--disk", "demo-images/web-1.qcow2,target=vdb,readonly", "--network", "demo-isolated,model=e1000e,mac=52:54:00:aa:bb:cc",
                "--autostart", "--start",
            ])
            #expect(created.contains("Domain 'cli-typed' created") && created.contains("and started"))
            let xml = try await CLIHarness.run(["--socket", socket, "domain", "xml", "cli-typed", "--inactive"])
            #expect(xml.contains("<target dev=\"vdb\" bus=\"virtio\"/>") || xml.contains("<target dev='vdb' bus='virtio'/>"))
            #expect(xml.contains("52:54:00:aa:bb:cc") && xml.contains("e1000e") && xml.contains("<readonly/>"))
            let info = try await CLIHarness.run(["--socket", socket, "--json", "domain", "info", "cli-typed"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any])
            #expect(object["autostart"] as? Bool == true)
            #expect(object["state"] as? String == "DOMAIN_STATE_RUNNING")
            #expect(try await CLIHarness.run(["--socket", socket, "domain", "suspend", "cli-typed"]).contains("suspended"))
            #expect(try await CLIHarness.run(["--socket", socket, "domain", "resume", "cli-typed"]).contains("resumed"))
            #expect(try await CLIHarness.run(["--socket", socket, "domain", "reboot", "cli-typed"]).contains("rebooted"))
            #expect(try await CLIHarness.run(["--socket", socket, "domain", "reset", "cli-typed"]).contains("was reset"))
            #expect(try await CLIHarness.run(["--socket", socket, "domain", "autostart", "cli-typed", "--disable"]).contains("unmarked"))
            #expect(try await CLIHarness.run(["--socket", socket, "domain", "destroy", "cli-typed"]).contains("destroyed"))
            #expect(try await CLIHarness.run(["--socket", socket, "domain", "undefine", "cli-typed"]).contains("undefined"))
        }
    }

    @Test func createArgumentsAreChecked() throws {
        func spec(_ disks: [String] = ["p/v"], networks: [String] = [], serial: String = "pty", kernel: String? = nil,
                  cmdline: String? = nil) throws -> Virthost_V1_DomainSpec {
            try DomainSpecArguments.spec(
                name: "x", vcpus: 1, memory: "512M", disks: disks, diskPaths: [], networks: networks, bridges: [],
                kernel: kernel, initrd: nil, cmdline: cmdline, virtType: "", machine: "", serial: serial, uefi: false,
                noAgent: false, autostart: false)
        }
        let parsed = try spec(["pool/dir-less.qcow2,bus=scsi,cache=none,serial=S1"], networks: ["net,portgroup=pg"], serial: "file:/var/log/x.log")
        #expect(parsed.memoryBytes == 512 << 20)
        #expect(parsed.disks[0].volume.pool == "pool" && parsed.disks[0].volume.volume == "dir-less.qcow2")
        #expect(parsed.disks[0].bus == "scsi" && parsed.disks[0].cache == "none" && parsed.disks[0].serial == "S1")
        #expect(parsed.nics[0].network == "net" && parsed.nics[0].portgroup == "pg")
        #expect(parsed.serial.kind == .file && parsed.serial.path == "/var/log/x.log")
        #expect(throws: ValidationError.self) { try spec(["no-slash"]) }
        #expect(throws: ValidationError.self) { try spec(["p/v,colour=red"]) }
        #expect(throws: ValidationError.self) { try spec(["p/v,target=vda,target=vdb"]) }
        #expect(throws: ValidationError.self) { try spec(networks: ["net,bogus"]) }
        #expect(throws: ValidationError.self) { try spec(serial: "tcp:1") }
        #expect(throws: ValidationError.self) { try spec(cmdline: "quiet") }
        #expect(try spec(kernel: "p/k", cmdline: "quiet").kernel.cmdline == "quiet")
    }

    @Test func failuresThrowTheAgentsError() async throws {
        try await CLIHarness.withAgent { socket in
            do {
                _ = try await CLIHarness.run(["--socket", socket, "domain", "info", "missing-vm"])
                Issue.record("a missing domain did not fail")
            } catch let error as VirtHostError {
                #expect(error.code == .notFound)
                #expect(error.description.hasPrefix("NOT_FOUND: "))
                #expect(error.description.contains("missing-vm"))
                #expect(error.description.contains("VIR_ERR_NO_DOMAIN"))
            }
        }
        do {
            _ = try await CLIHarness.run(["--socket", "/tmp/vhu-no-agent.sock", "net", "list"])
            Issue.record("a missing agent did not fail")
        } catch let error as VirtHostError {
            #expect(error.code == .unavailable)
            #expect(error.description.contains("no socket at /tmp/vhu-no-agent.sock: is virthostd running"))
        }
    }

    @Test func tableAndSizeFormatting() {
        var table = Table("Name", "State")
        table.add("a-long-name", "running")
        table.add("b", "shut off")
        let lines = table.render().split(separator: "\n").map(String.init)
        #expect(lines[0] == " Name          State")
        #expect(lines[2] == " a-long-name   running")
        #expect(lines[3] == " b             shut off")
        #expect(Format.bytes(512) == "512 B")
        #expect(Format.bytes(1536) == "1.50 KiB")
        #expect(Format.bytes(20 << 30) == "20.00 GiB")
    }
}

enum AgentFolder {
    static func make() throws -> String {
        let path = "/tmp/vhu-cli-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

enum CLIHarness {
    static var demoURI: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return "test://" + root.appendingPathComponent("packaging/demo/host.xml").path
    }

    /// Parses and runs a command line, returning what it printed.
    static func run(_ arguments: [String]) async throws -> String {
        let captured = Captured()
        var command = try VirtHostCommand.parseAsRoot(arguments)
        try await Output.$sink.withValue({ captured.append($0) }) {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        }
        return captured.text
    }

    /// Runs an agent on the demo host and `body` with the socket to name:
    /// the main one, or, with `VIRTHOST_TRANSPORT=ttrpc` (make test's ttrpc
    /// pass), a ttrpc socket the agent serves beside it, which the CLI then
    /// speaks, as it reads the same variable.
    static func withAgent(_ body: (String) async throws -> Void) async throws {
        let folder = try AgentFolder.make()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/agent.sock"
        var configuration = DaemonSettings(libvirtURI: demoURI, socketPath: path, socketMode: 0o600)
        if VirtHostWire.default == .ttrpc { configuration.ttrpcSocketPath = folder + "/agent-ttrpc.sock" }
        let (ready, continuation) = AsyncStream<Void>.makeStream()
        var logger = Logger(label: "cli-test-agent")
        logger.logLevel = .warning
        let agent = try Daemon(configuration: configuration, logger: logger, onReady: { _ in continuation.yield() })
        let group = ServiceGroup(services: [agent], logger: logger)
        let server = Task { try await group.run() }
        var iterator = ready.makeAsyncIterator()
        _ = await iterator.next()
        var failure: (any Error)?
        do { try await body(configuration.ttrpcSocketPath ?? path) } catch { failure = error }
        await group.triggerGracefulShutdown()
        try await server.value
        if let failure { throw failure }
    }
}

final class Captured: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = ""
    func append(_ text: String) { lock.withLock { buffer += text } }
    var text: String { lock.withLock { buffer } }
}

/// Every command names itself. Without `commandName`, ArgumentParser derives
/// the name with `String(describing:)` of the type for every command of the
/// tree at each start, and each of those casts scanned the binary's 12,700
/// protocol conformances: `virthost --version` took 26 ms instead of 9.
@Suite struct CommandNameTests {
    @Test func everyCommandHasAnExplicitName() {
        var unnamed: [String] = []
        var queue: [any ParsableCommand.Type] = [VirtHostCommand.self]
        var seen = 0
        while let command = queue.popLast() {
            seen += 1
            if command.configuration.commandName == nil { unnamed.append("\(command)") }
            queue += command.configuration.subcommands
        }
        #expect(seen > 100)
        #expect(unnamed.isEmpty, "commands without commandName: \(unnamed)")
    }
}

/// `--json` output: indented, keys sorted, values copied as they are.
@Suite struct PrettyJSONTests {
    @Test func indentsSortsKeysAndKeepsValues() throws {
        let compact = #"{"b":1,"a":[1,{"y":"x\"z}, ]","x":null,"w":-1.5e3}],"c":{},"d":[],"e":"é/\u0001"}"#
        let pretty = try PrettyJSON.format(compact)
        #expect(pretty == """
            {
              "a" : [
                1,
                {
                  "w" : -1.5e3,
                  "x" : null,
                  "y" : "x\\"z}, ]"
                }
              ],
              "b" : 1,
              "c" : {},
              "d" : [],
              "e" : "é/\\u0001"
            }
            """)
        // The same document as Foundation reads it.
        let before = try JSONSerialization.jsonObject(with: Data(compact.utf8)) as? NSDictionary
        let after = try JSONSerialization.jsonObject(with: Data(pretty.utf8)) as? NSDictionary
        #expect(before != nil && before == after)
        #expect(try PrettyJSON.format("7") == "7")
        for bad in ["{", #"{"a" 1}"#, "[1,]x", #""open"#, "[1 2]", ""] {
            #expect(throws: PrettyJSON.Malformed.self, "\(bad)") { try PrettyJSON.format(bad) }
        }
    }

    @Test func deepDocumentsReadTheSameAfter() throws {
        // Objects in arrays in objects, six levels, keys out of order.
        var document = #"{"z":0,"a":"s"}"#
        for level in 0..<6 {
            document = #"{"k\#(level)":[\#(document),\#(document)],"b\#(level)":{"y":\#(document),"x":[]},"a":\#(level)}"#
        }
        let pretty = try PrettyJSON.format(document)
        let before = try JSONSerialization.jsonObject(with: Data(document.utf8)) as? NSDictionary
        let after = try JSONSerialization.jsonObject(with: Data(pretty.utf8)) as? NSDictionary
        #expect(before != nil && before == after)
        // Each object's keys in order: "a" before "b5" before "k5" at the top.
        let top = pretty.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: " ")[0] }
        #expect(top == [#""a""#, #""b5""#, #""k5""#])
    }
}
