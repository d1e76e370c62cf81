import ArgumentParser
import VirtHostClient

/// `virthost pool ...`: storage pools, like virsh pool-list/pool-info.
struct PoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool", abstract: "Storage pools.", subcommands: [List.self, Info.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List pools (all, unless filtered).")
        @OptionGroup var options: ClientOptions
        @Flag(help: "Only active pools.") var active = false
        @Flag(help: "Only inactive pools.") var inactive = false

        func run() async throws {
            let pools = try await options.withClient { try await $0.listPools(activeOnly: active, inactiveOnly: inactive) }
            if options.json { return try Output.json(pools) }
            var table = Table("Name", "State", "Autostart", "Type", "Capacity", "Allocation", "Available")
            for p in pools {
                table.add(
                    p.name, p.state.label, Format.yesNo(p.autostart), p.type,
                    Format.bytes(p.capacity), Format.bytes(p.allocation), Format.bytes(p.available))
            }
            Output.line(table.render())
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one pool (like virsh pool-info).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var name: String

        func run() async throws {
            let p = try await options.withClient { try await $0.pool(name) }
            if options.json { return try Output.json(p) }
            var details = Details()
            details.add("Name", p.name)
            details.add("UUID", p.uuid)
            details.add("Type", p.type)
            details.add("State", p.state.label)
            details.add("Persistent", Format.yesNo(p.persistent))
            details.add("Autostart", Format.yesNo(p.autostart))
            details.add("Target", p.targetPath)
            details.add("Capacity", Format.bytes(p.capacity))
            details.add("Allocation", Format.bytes(p.allocation))
            details.add("Available", Format.bytes(p.available))
            details.add("Volumes", String(p.volumeCount))
            Output.line(details.render())
        }
    }
}

extension Virthost_V1_PoolState {
    var label: String {
        switch self {
        case .inactive: "inactive"
        case .building: "building"
        case .running: "running"
        case .degraded: "degraded"
        case .inaccessible: "inaccessible"
        default: "unknown"
        }
    }
}
