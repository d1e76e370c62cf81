import ArgumentParser
import VirtHostClient

/// `virthost iface ...`: NICs of a machine, like virsh domiflist.
struct IfaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iface", abstract: "Network interfaces of machines.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a machine's NICs (like virsh domiflist).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Flag(help: "Read the persistent definition.") var inactive = false

        func run() async throws {
            let nics = try await options.withClient { try await $0.listInterfaces(domain: domain, inactive: inactive) }
            if options.json { return try Output.json(nics) }
            var table = Table("Interface", "Type", "Source", "Model", "MAC")
            for nic in nics {
                table.add(nic.targetDev.isEmpty ? "-" : nic.targetDev, nic.rawType, nic.source, nic.model.isEmpty ? "-" : nic.model, nic.mac)
            }
            Output.line(table.render())
        }
    }
}
