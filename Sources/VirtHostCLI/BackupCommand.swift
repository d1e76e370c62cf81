import ArgumentParser
import VirtHostAPI
import VirtHostClient

/// `virthost backup ...`: full and incremental backups of running machines
/// (like virsh backup-begin with checkpoints), listed, deleted and restored.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Backups of machines' disks.",
        subcommands: [Start.self, List.self, Delete.self, Restore.self])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start", abstract: "Back a running machine's disks up into new qcow2 volumes of a pool.",
            discussion: """
                  virthost backup start web-1 --pool backups
                  virthost backup start web-1 --pool backups --incremental --quiesce
                  virthost backup start web-1 --pool backups --disk vda --since bk-20261202T101500Z-1a2b
                Each backup makes a checkpoint of its id; an incremental backup holds the changes since
                the newest backup (or --since one) and needs qcow2 disks.
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Option(help: "The pool that receives the backup volumes.") var pool: String
        @Option(name: .customLong("disk"), help: "A disk's guest target (repeat; default: every disk).") var disks: [String] = []
        @Flag(help: "Only the changes since the newest backup.") var incremental = false
        @Option(help: "Only the changes since this backup (an id).") var since: String?
        @Flag(help: "Freeze the guest's file systems (qemu-guest-agent) for the instant the backup starts.") var quiesce = false
        @Flag(help: "Return the operation id at once; follow it with virthost op wait.") var async = false

        func validate() throws {
            if incremental && since != nil { throw ValidationError("--incremental and --since exclude each other") }
        }

        func run() async throws {
            let start = { (client: VirtHostClient) in
                try await client.startBackup(
                    domain: domain, pool: pool, disks: disks, incremental: incremental, since: since ?? "", quiesce: quiesce)
            }
            if async { return try await options.startAsync("Backing up \(domain)", start) }
            let backup = try await options.withProgress("Backing up", start)
            if options.json { return try Output.json(backup) }
            let kind = backup.incremental ? "incremental (since \(backup.parent))" : "full"
            Output.line("Backup \(backup.id) of \(domain): \(kind), \(Format.bytes(backup.size)) in pool \(backup.pool)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List a machine's backups and checkpoints, oldest first.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String

        func run() async throws {
            let response = try await options.withClient { try await $0.listBackups(domain: domain) }
            if options.json { return try Output.json(response) }
            var table = Table("Id", "Kind", "Parent", "State", "Disks", "Size", "Created")
            for b in response.backups {
                table.add(
                    b.id, b.incremental ? "incremental" : "full", b.parent.isEmpty ? "-" : b.parent, BackupCommand.state(b.state),
                    b.disks.map(\.target).joined(separator: ","), Format.bytes(b.size), AgentCommand.timestamp(b.createdAt.date))
            }
            Output.line(table.render())
            if !response.checkpoints.isEmpty {
                Output.line("Checkpoints: " + response.checkpoints.map(\.name).joined(separator: ", "))
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete", abstract: "Delete a backup: its volumes and checkpoint (backups built on it become full ones).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Argument(help: "The backup's id.") var id: String

        func run() async throws {
            try await options.withClient { try await $0.deleteBackup(domain: domain, id: id) }
            if options.json { return try Output.json(Virthost_V1_Empty()) }
            Output.line("Backup \(id) of \(domain) deleted")
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore", abstract: "Write a new standalone volume from a backup of one disk (the full backup plus the incremental ones up to it).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Option(help: "The disk's guest target in the backup, e.g. vda.") var disk: String
        @Option(help: "The pool of the new volume.") var pool: String
        @Option(help: "The new volume's name.") var volume: String
        @Option(help: "The backup to restore (default: the newest complete one).") var backup: String?
        @Option(help: "qcow2 (default) or raw.") var format: String?

        func run() async throws {
            let v = try await options.withClient {
                try await $0.restoreBackup(
                    domain: domain, disk: disk, pool: pool, volume: volume, backup: backup ?? "", format: format ?? "")
            }
            if options.json { return try Output.json(v) }
            Output.line("Volume \(pool)/\(v.name) restored from \(backup ?? "the newest backup") of \(domain) \(disk)")
        }
    }

    static func state(_ state: Virthost_V1_BackupState) -> String {
        switch state {
        case .running: "running"
        case .complete: "complete"
        case .failed: "failed"
        default: "unknown"
        }
    }
}
