import Foundation
import ArgumentParser
import VirtHostClient

/// `virthost host ...`: the hypervisor host.
struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host", abstract: "The hypervisor host.", subcommands: [Info.self, Health.self])

    /// `virthost host info`: versions and node facts.
    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "info", abstract: "Versions, CPU and memory of the host.")
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

    /// `virthost host health`: GetHealth as a table, or `--json`; exits 1 when not serving.
    struct Health: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "health", abstract: "Whether the agent serves: libvirt reachable and answering, threads, calls in flight.",
            discussion: "Exits 0 when the agent is serving, 1 when it runs but libvirt is unreachable or does not answer.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let health = try await options.withClient { try await $0.health() }
            if options.json {
                try Output.json(health)
            } else {
                var details = Details()
                details.add("Status", health.status == .serving ? "serving" : "not serving")
                details.add("URI", health.uri)
                details.add("libvirt", health.libvirtConnected ? "connected" : "not connected")
                details.add(
                    "libvirtd answers",
                    health.libvirtResponsive ? "yes" : String(format: "no, silent for %.1f s", Double(health.libvirtSilentMs) / 1000))
                details.add("Detail", health.detail)
                details.add("Uptime", "\(health.uptimeSeconds) s")
                details.add("Reconnects", "\(health.reconnects)")
                details.add("Calls in flight", "\(health.callsInFlight)")
                details.add(
                    "libvirt threads",
                    "\(health.libvirtThreads) (\(health.stuckThreads) stuck, \(health.replacedThreads) replaced since start)")
                details.add("Event sequence", "\(health.lastEventSequence) (epoch \(health.eventEpoch))")
                Output.line(details.render())
            }
            if health.status != .serving { throw ExitCode(1) }
        }
    }
}
