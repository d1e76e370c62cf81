import ArgumentParser
import CLibvirtVersion
import VirtHostClient

/// `virthost`: the command-line client of virthostd, with virsh-like commands.
public struct VirtHostCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "virthost",
        abstract: "Manage a libvirt host through its virthostd agent.",
        discussion: """
            Talks to virthostd over its Unix socket. Global options go before the command:
              virthost --socket ./.run/virthost.sock --json net list
            Any failure exits non-zero with the message on stderr.
            """,
        version: ClientVersion.description,
        subcommands: [
            HostCommand.self, DomainCommand.self, NetCommand.self, PoolCommand.self, VolCommand.self,
            IfaceCommand.self, DiskCommand.self, BridgeCommand.self, TapCommand.self, LinkCommand.self, AddrCommand.self, RouteCommand.self,
            NodedevCommand.self, HostdevCommand.self, EventsCommand.self,
            AgentCommand.self, SnapshotCommand.self, BackupCommand.self, OpCommand.self,
        ])

    @OptionGroup var options: ClientOptions

    public init() {}
}

/// The CLI's version.
public enum ClientVersion {
    public static let current = "0.1.0"

    /// The libvirt version of the headers the CLI was compiled with. The CLI
    /// does not link libvirt: this is the libvirt the package was built
    /// against (the agent's `virthostd --version` also names the one it runs).
    public static let libvirtBuiltAgainst: String = {
        let encoded = virthost_libvirt_headers_version()
        return "\(encoded / 1_000_000).\((encoded / 1_000) % 1_000).\(encoded % 1_000)"
    }()

    /// What `virthost --version` prints.
    public static var description: String { "\(current) (built against libvirt \(libvirtBuiltAgainst))" }
}
