import ArgumentParser
import VirtHostClient

/// `virthost vol ...`: volumes in a pool, like virsh vol-list/vol-info.
struct VolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vol", abstract: "Volumes in storage pools.", subcommands: [List.self, Info.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a pool's volumes.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var pool: String

        func run() async throws {
            let volumes = try await options.withClient { try await $0.listVolumes(pool: pool) }
            if options.json { return try Output.json(volumes) }
            var table = Table("Name", "Path", "Format", "Capacity", "Allocation")
            for v in volumes {
                table.add(v.name, v.path, v.format.isEmpty ? "-" : v.format, Format.bytes(v.capacity), Format.bytes(v.allocation))
            }
            Output.line(table.render())
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one volume (like virsh vol-info).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var pool: String
        @Argument(help: "The volume's name.") var name: String

        func run() async throws {
            let v = try await options.withClient { try await $0.volume(pool: pool, name: name) }
            if options.json { return try Output.json(v) }
            var details = Details()
            details.add("Name", v.name)
            details.add("Pool", v.pool)
            details.add("Type", v.type)
            details.add("Path", v.path)
            details.add("Format", v.format)
            details.add("Capacity", Format.bytes(v.capacity))
            details.add("Allocation", Format.bytes(v.allocation))
            Output.line(details.render())
        }
    }
}
