import ArgumentParser
import Foundation
import VirtHostClient

/// `virthost domain ...`: machines, like virsh list/dominfo/dumpxml/define/start/...
struct DomainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domain", abstract: "Virtual machines.",
        subcommands: [
            List.self, Info.self, XML.self, Create.self, Define.self, Start.self, Shutdown.self, Reboot.self, Reset.self,
            Suspend.self, Resume.self, Autostart.self, Destroy.self, Undefine.self, Stats.self,
        ])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List machines (all, unless filtered).")
        @OptionGroup var options: ClientOptions
        @Flag(help: "Only running machines.") var active = false
        @Flag(help: "Only stopped machines.") var inactive = false
        @Option(help: "Only machines in this state (running, paused, shutoff, ...; repeat for several).")
        var state: [String] = []
        @OptionGroup var page: PageOptions

        func run() async throws {
            var request = Virthost_V1_ListDomainsRequest()
            request.activeOnly = active
            request.inactiveOnly = inactive
            request.pageSize = page.limit
            request.namePrefix = page.prefix
            request.states = try state.map { word in
                let states: [String: Virthost_V1_DomainState] = [
                    "running": .running, "blocked": .blocked, "idle": .blocked, "paused": .paused, "shutdown": .shutdown,
                    "shutoff": .shutoff, "crashed": .crashed, "pmsuspended": .pmsuspended,
                ]
                guard let state = states[word] else {
                    throw ValidationError("--state \(word): not one of running, blocked, paused, shutdown, shutoff, crashed, pmsuspended")
                }
                return state
            }
            let domains = try await page.items(options, request, token: \.pageToken, { try await $0.listDomains($1) }) {
                ($0.domains, $0.nextPageToken)
            }
            guard let domains else { return }
            var table = Table("Id", "Name", "State", "vCPUs", "Memory")
            for d in domains {
                table.add(d.id == 0 ? "-" : String(d.id), d.name, d.state.label, String(d.vcpus), Format.bytes(d.memoryKib * 1024))
            }
            Output.line(table.render())
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "info", abstract: "Show one machine (like virsh dominfo).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var name: String

        func run() async throws {
            let d = try await options.withClient { try await $0.domain(name) }
            if options.json { return try Output.json(d) }
            Output.line(DomainCommand.details(d).render())
        }
    }

    struct XML: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "xml", abstract: "Print a machine's XML (like virsh dumpxml).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var name: String
        @Flag(help: "The persistent definition rather than the live one.") var inactive = false

        func run() async throws {
            let xml = try await options.withClient { try await $0.domainXML(name, inactive: inactive) }
            if options.json { return try Output.json(Virthost_V1_GetDomainXMLResponse.with { $0.xml = xml }) }
            Output.line(xml.hasSuffix("\n") ? String(xml.dropLast()) : xml)
        }
    }

    struct Define: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "define", abstract: "Define a machine from an XML file (like virsh define).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "A <domain> XML file, or - for standard input.") var file: String

        func run() async throws {
            let xml = try readInput(file)
            let d = try await options.withClient { try await $0.defineDomain(xml: xml) }
            if options.json { return try Output.json(d) }
            Output.line("Domain '\(d.name)' defined (uuid \(d.uuid))")
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a defined machine.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var name: String

        func run() async throws {
            let d = try await options.withClient { try await $0.startDomain(name) }
            if options.json { return try Output.json(d) }
            Output.line("Domain '\(d.name)' started")
        }
    }

    struct Shutdown: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "shutdown", abstract: "Ask a machine's guest to shut down.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var name: String
        @Option(help: "How to ask: acpi or agent (default: the hypervisor's choice).") var mode: String = ""

        func run() async throws {
            let d = try await options.withClient { try await $0.shutdownDomain(name, mode: mode) }
            if options.json { return try Output.json(d) }
            Output.line("Domain '\(d.name)' is being shutdown")
        }
    }

    struct Destroy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "destroy", abstract: "Power a machine off at once.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var name: String

        func run() async throws {
            let d = try await options.withClient { try await $0.destroyDomain(name) }
            if options.json { return try Output.json(d) }
            Output.line("Domain '\(d.name)' destroyed")
        }
    }

    struct Reboot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reboot", abstract: "Ask a machine's guest to reboot.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var name: String
        @Option(help: "How to ask: acpi or agent (default: the hypervisor's choice).") var mode: String = ""

        func run() async throws {
            let d = try await options.withClient { try await $0.rebootDomain(name, mode: mode) }
            if options.json { return try Output.json(d) }
            Output.line("Domain '\(d.name)' is being rebooted")
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reset", abstract: "Reset a machine at once, like its reset button.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var name: String

        func run() async throws {
            let d = try await options.withClient { try await $0.resetDomain(name) }
            if options.json { return try Output.json(d) }
            Output.line("Domain '\(d.name)' was reset")
        }
    }

    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "suspend", abstract: "Pause a running machine.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var name: String

        func run() async throws {
            let d = try await options.withClient { try await $0.suspendDomain(name) }
            if options.json { return try Output.json(d) }
            Output.line("Domain '\(d.name)' suspended")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resume", abstract: "Let a paused machine run again.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var name: String

        func run() async throws {
            let d = try await options.withClient { try await $0.resumeDomain(name) }
            if options.json { return try Output.json(d) }
            Output.line("Domain '\(d.name)' resumed")
        }
    }

    struct Autostart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "autostart", abstract: "Start a machine with the host (like virsh autostart).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var name: String
        @Flag(help: "Stop starting it with the host.") var disable = false

        func run() async throws {
            let d = try await options.withClient { try await $0.setDomainAutostart(name, !disable) }
            if options.json { return try Output.json(d) }
            Output.line(d.autostart ? "Domain '\(d.name)' marked as autostarted" : "Domain '\(d.name)' unmarked as autostarted")
        }
    }

    struct Undefine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "undefine", abstract: "Remove a machine's persistent definition.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var name: String
        @Flag(name: .customLong("snapshots-metadata"), help: "Also remove snapshot metadata.") var snapshotsMetadata = false
        @Flag(help: "Also remove the NVRAM file.") var nvram = false

        func run() async throws {
            try await options.withClient { try await $0.undefineDomain(name, snapshotsMetadata: snapshotsMetadata, nvram: nvram) }
            if options.json { return try Output.json(Virthost_V1_Empty()) }
            Output.line("Domain '\(name)' has been undefined")
        }
    }

    static func details(_ d: Virthost_V1_Domain) -> Details {
        var details = Details()
        details.add("Id", d.id == 0 ? "-" : String(d.id))
        details.add("Name", d.name)
        details.add("UUID", d.uuid)
        details.add("OS Type", d.osType)
        details.add("State", d.state.label)
        details.add("CPU(s)", String(d.vcpus))
        details.add("CPU time", String(format: "%.1fs", Double(d.cpuTimeNs) / 1e9))
        details.add("Max memory", "\(d.maxMemoryKib) KiB")
        details.add("Used memory", "\(d.memoryKib) KiB")
        details.add("Persistent", Format.yesNo(d.persistent))
        details.add("Autostart", d.autostart ? "enable" : "disable")
        return details
    }
}

extension Virthost_V1_DomainState {
    /// virsh's words for a state.
    var label: String {
        switch self {
        case .running: "running"
        case .blocked: "idle"
        case .paused: "paused"
        case .shutdown: "in shutdown"
        case .shutoff: "shut off"
        case .crashed: "crashed"
        case .pmsuspended: "pmsuspended"
        default: "no state"
        }
    }
}

/// Reads a file, or standard input for "-".
func readInput(_ path: String) throws -> String {
    if path == "-" {
        return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read \(path)")
    }
    return String(decoding: data, as: UTF8.self)
}
