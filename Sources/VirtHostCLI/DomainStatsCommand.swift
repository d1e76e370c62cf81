import ArgumentParser
import Foundation
import VirtHostClient

extension DomainCommand {
    /// `virthost domain stats [NAME...]`: like virsh domstats, from one agent call.
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stats", abstract: "Statistics of machines (like virsh domstats): CPU, memory, disks, NICs.",
            discussion: "Without names: every machine. The agent reads them with one libvirt call.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Machine names (none: all).") var names: [String] = []

        func run() async throws {
            let response = try await options.withClient { try await $0.domainStats(names) }
            if options.json { return try Output.json(response) }
            var table = Table("Name", "State", "CPU time", "vCPUs", "Memory", "RSS", "Disk read", "Disk written", "Net rx", "Net tx")
            for s in response.stats {
                table.add(
                    s.name, s.state.label, "\(s.cpuTimeNs / 1_000_000_000).\(String(s.cpuTimeNs % 1_000_000_000 / 10_000_000 + 100).dropFirst()) s",
                    "\(s.vcpusCurrent)/\(s.vcpusMaximum)", Format.bytes(s.balloonCurrentKib * 1024),
                    s.rssKib == 0 ? "-" : Format.bytes(s.rssKib * 1024),
                    Format.bytes(s.disks.reduce(0) { $0 + $1.readBytes }), Format.bytes(s.disks.reduce(0) { $0 + $1.writeBytes }),
                    Format.bytes(s.interfaces.reduce(0) { $0 + $1.rxBytes }), Format.bytes(s.interfaces.reduce(0) { $0 + $1.txBytes }))
            }
            Output.line(table.render())
        }
    }
}
