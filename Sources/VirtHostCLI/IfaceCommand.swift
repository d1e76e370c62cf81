import ArgumentParser
import VirtHostClient

/// `virthost iface ...`: NICs of a machine, like virsh domiflist / attach-interface / detach-interface.
struct IfaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iface", abstract: "Network interfaces of machines.", subcommands: [List.self, Attach.self, Detach.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List a machine's NICs (like virsh domiflist).")
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

    /// --live / --config, as virsh takes them.
    struct ScopeOptions: ParsableArguments {
        @Flag(help: "Change the running machine.") var live = false
        @Flag(help: "Change the persistent definition (next start).") var config = false

        var scope: VirtHostClient.DeviceScope {
            var scope: VirtHostClient.DeviceScope = []
            if live { scope.insert(.live) }
            if config { scope.insert(.config) }
            return scope
        }
    }

    struct Attach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "attach", abstract: "Attach a NIC (like virsh attach-interface).",
            discussion: """
                Exactly one source: --network N, --bridge B, --direct DEV [--mode M], --hostdev-network N or --tap TAP.
                --tap puts the NIC on an existing TAP (virthost tap add); detaching it leaves the TAP in place.
                Without --live or --config: the running machine when it runs, else its definition (virsh --current).
                  virthost iface attach web-1 --network default --model virtio --live --config
                  virthost iface attach web-1 --bridge br0 --mac 52:54:00:12:34:56
                  virthost iface attach web-1 --direct eth1 --mode vepa --live
                  virthost iface attach web-1 --tap tap-web1 --live
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Option(help: "A libvirt network.") var network: String?
        @Option(help: "An existing host bridge.") var bridge: String?
        @Option(help: "A host device for a macvtap NIC.") var direct: String?
        @Option(name: .customLong("hostdev-network"), help: "A hostdev (SR-IOV) network.") var hostdevNetwork: String?
        @Option(help: "An existing host TAP device (made with tap add).") var tap: String?
        @Option(help: "macvtap mode for --direct: bridge, vepa, private, passthrough.") var mode: String = ""
        @Option(help: "virtio (default), e1000e or rtl8139.") var model: String = ""
        @Option(help: "The NIC's MAC; generated when not given.") var mac: String = ""
        @Option(help: "A port group of the network (--network, --hostdev-network).") var portgroup: String = ""
        @OptionGroup var scope: ScopeOptions

        func validate() throws {
            let sources = [network, bridge, direct, hostdevNetwork, tap].compactMap { $0 }
            guard sources.count == 1 else {
                throw ValidationError("give exactly one of --network, --bridge, --direct, --hostdev-network, --tap")
            }
            if !mode.isEmpty, direct == nil { throw ValidationError("--mode is for --direct") }
        }

        func run() async throws {
            let (type, source): (Virthost_V1_InterfaceSourceType, String) =
                if let network { (.network, network) }
                else if let bridge { (.bridge, bridge) }
                else if let direct { (.direct, direct) }
                else if let tap { (.tap, tap) }
                else { (.hostdev, hostdevNetwork ?? "") }
            let nic = try await options.withClient {
                try await $0.attachInterface(
                    domain: domain, type: type, source: source, model: model, mac: mac, directMode: mode, portgroup: portgroup,
                    scope: scope.scope)
            }
            if options.json { return try Output.json(nic) }
            let target = nic.targetDev.isEmpty ? "" : " as \(nic.targetDev)"
            Output.line("Interface \(nic.mac) (\(nic.model)) attached to \(nic.rawType) '\(nic.source)'\(target)")
        }
    }

    struct Detach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "detach", abstract: "Detach a NIC by MAC (like virsh detach-interface).",
            discussion: """
                A live detach waits for the guest to release the NIC (up to --wait seconds) and says
                whether it completed or is still pending; libvirt finishes a pending removal when the guest does.
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Option(help: "The MAC of the NIC to remove.") var mac: String
        @Option(help: "Seconds to wait for the guest to release a live NIC.") var wait: Double = 10
        @OptionGroup var scope: ScopeOptions

        func validate() throws {
            guard wait > 0, wait <= 3600 else { throw ValidationError("--wait must be within 0-3600 seconds") }
        }

        func run() async throws {
            // The call's deadline is the wait plus time to answer.
            let timeout = Duration.milliseconds(Int64(wait * 1000) + 500)
            let result = try await options.withClient {
                try await $0.detachInterface(domain: domain, mac: mac, scope: scope.scope, timeout: timeout)
            }
            if options.json { return try Output.json(result) }
            if result.pending {
                Output.line("Interface \(mac) detach requested; the guest has not released it after \(result.waitedMs) ms (pending)")
            } else {
                Output.line("Interface \(mac) detached" + (result.waitedMs > 0 ? " (\(result.waitedMs) ms)" : ""))
            }
        }
    }
}
