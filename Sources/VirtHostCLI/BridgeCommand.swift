import ArgumentParser
import Foundation
import VirtHostClient

/// `virthost bridge ...`: host bridges, like brctl.
struct BridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge", abstract: "Host bridges (like brctl).",
        subcommands: [List.self, Add.self, Confirm.self, Pending.self, Del.self, AddIf.self, DelIf.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List bridges and their ports (like brctl show).")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let bridges = try await options.withClient { try await $0.listLinks(kind: "bridge") }
            if options.json { return try Output.json(bridges) }
            var table = Table("Bridge", "State", "MAC", "MTU", "Interfaces")
            for b in bridges {
                table.add(b.name, b.stateLabel, b.mac, String(b.mtu), b.ports.isEmpty ? "-" : b.ports.joined(separator: ","))
            }
            Output.line(table.render())
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Create a bridge, up (like brctl addbr); with --uplink, put it over an uplink with a rollback.",
            discussion: """
                With --uplink DEV the uplink's addresses and routes move to the new bridge and DEV is enslaved to it.
                Each --check address must then answer an ICMP echo through the bridge within --check-timeout seconds,
                and with --confirm-within the change stays only if `virthost bridge confirm BR` arrives in time.
                Anything that fails puts everything back exactly as it was.
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The bridge's name (at most 15 characters).") var name: String
        @Option(help: "MTU (default: the kernel's; with --uplink, the uplink's).") var mtu: UInt32 = 0
        @Flag(help: "Turn spanning tree on.") var stp = false
        @Option(help: "Put the bridge over this interface, moving its addresses and routes.") var uplink: String = ""
        @Option(name: .customLong("check"), help: "An address that must answer through the bridge (repeatable, needs --uplink).")
        var checks: [String] = []
        @Option(help: "Seconds all checks may take, 1-60 (default 5).") var checkTimeout: UInt32 = 0
        @Option(help: "Roll back unless `bridge confirm` arrives within this many seconds (1-3600).") var confirmWithin: UInt32 = 0

        func validate() throws {
            if uplink.isEmpty && (!checks.isEmpty || confirmWithin != 0 || checkTimeout != 0) {
                throw ValidationError("--check, --check-timeout and --confirm-within need --uplink")
            }
            if !uplink.isEmpty && (mtu != 0 || stp) { throw ValidationError("--mtu and --stp do not go with --uplink (the bridge takes the uplink's MTU)") }
        }

        func run() async throws {
            if uplink.isEmpty {
                let link = try await options.withClient { try await $0.createBridge(name, mtu: mtu, stp: stp) }
                if options.json { return try Output.json(link) }
                return Output.line("Bridge '\(link.name)' created")
            }
            let result = try await options.withClient {
                try await $0.bridgeUplink(name, uplink: uplink, checks: checks, checkTimeoutSeconds: checkTimeout, confirmWithin: confirmWithin)
            }
            if options.json { return try Output.json(result) }
            Output.line("Bridge '\(name)' is over '\(uplink)' (\(result.elapsedMs) ms)")
            for address in result.addresses { Output.line("  address \(address.address)") }
            for route in result.routes where route.protocol != "kernel" {
                Output.line("  route \(route.destination)\(route.gateway.isEmpty ? "" : " via \(route.gateway)") metric \(route.metric)")
            }
            if !result.checked.isEmpty { Output.line("  checked: \(result.checked.joined(separator: ", "))") }
            if result.pending {
                Output.line("Confirm within \(confirmWithin) s with: virthost bridge confirm \(name) (otherwise it is rolled back)")
            }
        }
    }

    struct Confirm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "confirm", abstract: "Keep a bridge over an uplink that waits for a confirmation.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The bridge.") var name: String

        func run() async throws {
            try await options.withClient { try await $0.confirmBridge(name) }
            if options.json { return try Output.json(Virthost_V1_Empty()) }
            Output.line("Bridge '\(name)' confirmed")
        }
    }

    struct Pending: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "pending", abstract: "Bridges over uplinks waiting for a confirmation.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let pending = try await options.withClient { try await $0.listPendingBridges() }
            if options.json { return try Output.json(pending) }
            var table = Table("Bridge", "Uplink", "Rolled back in")
            for p in pending {
                table.add(p.bridge, p.uplink, "\(max(0, Int(p.deadlineUnix - Date().timeIntervalSince1970))) s")
            }
            Output.line(table.render())
        }
    }

    struct Del: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "del", abstract: "Delete a bridge (like brctl delbr); --restore-uplink moves its addresses and routes back to its uplink first.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The bridge's name.") var name: String
        @Flag(help: "Move the bridge's addresses and routes back to its uplink, release it, then delete the bridge.")
        var restoreUplink = false
        @Option(help: "The uplink, when the bridge has several non-TAP ports.") var uplink: String = ""

        func validate() throws {
            if !uplink.isEmpty && !restoreUplink { throw ValidationError("--uplink goes with --restore-uplink") }
        }

        func run() async throws {
            if restoreUplink {
                let link = try await options.withClient { try await $0.restoreUplink(name, uplink: uplink) }
                if options.json { return try Output.json(link) }
                return Output.line("Bridge '\(name)' deleted; '\(link.name)' has its addresses and routes again")
            }
            try await options.withClient { try await $0.deleteBridge(name) }
            if options.json { return try Output.json(Virthost_V1_Empty()) }
            Output.line("Bridge '\(name)' deleted")
        }
    }

    struct AddIf: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "addif", abstract: "Connect an interface to a bridge (like brctl addif).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The bridge.") var bridge: String
        @Argument(help: "The interface.") var interface: String

        func run() async throws {
            let link = try await options.withClient { try await $0.addToBridge(bridge, interface: interface) }
            if options.json { return try Output.json(link) }
            Output.line("Interface '\(link.name)' connected to bridge '\(link.master)'")
        }
    }

    struct DelIf: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delif", abstract: "Disconnect an interface from a bridge (like brctl delif).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The bridge.") var bridge: String
        @Argument(help: "The interface.") var interface: String

        func run() async throws {
            let link = try await options.withClient { try await $0.removeFromBridge(bridge, interface: interface) }
            if options.json { return try Output.json(link) }
            Output.line("Interface '\(link.name)' disconnected from bridge '\(bridge)'")
        }
    }
}
