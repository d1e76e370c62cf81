import ArgumentParser
import VirtHostClient

/// `virthost host ...`: the hypervisor host.
struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host", abstract: "The hypervisor host.", subcommands: [Info.self])

    /// `virthost host info`: versions and node facts.
    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Versions, CPU and memory of the host.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let (version, node) = try await options.withClient { client in
                (try await client.version(), try await client.nodeInfo())
            }
            if options.json {
                try Output.json(fields: ["version": version, "node": node])
                return
            }
            var details = Details()
            details.add("Hostname", version.hostname)
            details.add("URI", version.uri)
            details.add("Agent version", version.agentVersion)
            details.add("libvirt version", version.libvirtVersion)
            details.add("Daemon version", version.daemonVersion)
            details.add("Hypervisor", [version.hypervisorType, version.hypervisorVersion].filter { !$0.isEmpty }.joined(separator: " "))
            details.add("CPU model", node.cpuModel)
            details.add("CPUs", "\(node.cpus) (\(node.sockets) sockets, \(node.cores) cores, \(node.threads) threads, \(node.numaNodes) NUMA nodes)")
            details.add("CPU frequency", "\(node.mhz) MHz")
            details.add("Memory", Format.bytes(node.memoryBytes))
            if node.freeMemoryBytes > 0 { details.add("Free memory", Format.bytes(node.freeMemoryBytes)) }
            Output.line(details.render())
        }
    }
}
