import ArgumentParser
import VirtHostClient

/// `virthost disk ...`: disks of a machine, like virsh domblklist.
struct DiskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disk", abstract: "Disks of machines.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a machine's disks (like virsh domblklist).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Flag(help: "Read the persistent definition.") var inactive = false

        func run() async throws {
            let disks = try await options.withClient { try await $0.listDisks(domain: domain, inactive: inactive) }
            if options.json { return try Output.json(disks) }
            var table = Table("Target", "Bus", "Device", "Source", "Format")
            for d in disks {
                let source = d.sourcePath.isEmpty ? (d.sourcePool.isEmpty ? "-" : "\(d.sourcePool)/\(d.sourceVolume)") : d.sourcePath
                table.add(d.target, d.bus, d.device, source, d.format.isEmpty ? "-" : d.format)
            }
            Output.line(table.render())
        }
    }
}
