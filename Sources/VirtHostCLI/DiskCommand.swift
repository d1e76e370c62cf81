import ArgumentParser
import VirtHostClient

/// `virthost disk ...`: disks of a machine, like virsh domblklist / attach-disk / detach-disk.
struct DiskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disk", abstract: "Disks of machines.", subcommands: [List.self, Attach.self, Detach.self, Move.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List a machine's disks (like virsh domblklist).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Flag(help: "Read the persistent definition.") var inactive = false

        func run() async throws {
            let disks = try await options.withClient { try await $0.listDisks(domain: domain, inactive: inactive) }
            if options.json { return try Output.json(disks) }
            var table = Table("Target", "Bus", "Device", "Source", "Format")
            for d in disks {
                table.add(d.target, d.bus, d.device, DiskCommand.source(d), d.format.isEmpty ? "-" : d.format)
            }
            Output.line(table.render())
        }
    }

    struct Attach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "attach", abstract: "Attach a file, block device or pool volume as a disk (like virsh attach-disk).",
            discussion: """
                  virthost disk attach web-1 --pool images --volume data.qcow2 --target vdb --live --config
                  virthost disk attach web-1 --path /srv/iso/tools.img --target vdc --readonly
                Neither --live nor --config changes the running machine if it runs, else its definition.
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Option(help: "A host file or block device (absolute path).") var path: String?
        @Option(help: "The pool of the volume to attach.") var pool: String?
        @Option(help: "The volume to attach (with --pool).") var volume: String?
        @Option(help: "Guest target: vdX for virtio, sdX for scsi and sata.") var target: String
        @Option(help: "virtio (default), scsi or sata.") var bus: String?
        @Option(help: "Image format; default: the volume's (raw for a path).") var format: String?
        @Flag(help: "Attach read-only.") var readonly = false
        @Option(help: "Cache mode: none, writethrough, writeback, directsync, unsafe.") var cache: String?
        @Option(help: "A serial the guest sees (at most 20 characters).") var serial: String?
        @Flag(help: "Change the running machine.") var live = false
        @Flag(help: "Change the persistent definition.") var config = false

        func validate() throws {
            switch (path, pool, volume) {
            case (.some, nil, nil), (nil, .some, .some): break
            default: throw ValidationError("give either --path FILE or --pool POOL --volume VOLUME")
            }
        }

        func run() async throws {
            let source: DiskSource = path.map { .path($0) } ?? .volume(pool: pool!, name: volume!)
            let disk = try await options.withClient {
                try await $0.attachDisk(
                    domain: domain, source: source, target: target, bus: bus ?? "", format: format ?? "",
                    readOnly: readonly, cache: cache ?? "", serial: serial ?? "", live: live, config: config)
            }
            if options.json { return try Output.json(disk) }
            Output.line("Disk \(disk.target) (\(disk.bus), \(disk.format.isEmpty ? "raw" : disk.format)) attached to \(domain): \(DiskCommand.source(disk))")
        }
    }

    struct Detach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "detach", abstract: "Detach a disk by its target (like virsh detach-disk).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Option(help: "The disk's guest target, e.g. vdb.") var target: String
        @Flag(help: "Change the running machine.") var live = false
        @Flag(help: "Change the persistent definition.") var config = false

        func run() async throws {
            let result = try await options.withClient { try await $0.detachDisk(domain: domain, target: target, live: live, config: config) }
            if options.json { return try Output.json(result) }
            Output.line(result.pending
                ? "Disk \(target) detach requested; the guest has not released it yet (libvirt finishes when it does)"
                : "Disk \(target) detached from \(domain)")
        }
    }

    static func source(_ d: Virthost_V1_Disk) -> String {
        if !d.sourcePool.isEmpty { return "\(d.sourcePool)/\(d.sourceVolume)" }
        return d.sourcePath.isEmpty ? "-" : d.sourcePath
    }

    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "move", abstract: "Move a machine's disk into a new volume of another pool, running or not (like virsh blockcopy --pivot).",
            discussion: """
                  virthost disk move web-1 vda --pool fast
                  virthost disk move web-1 vdb --pool archive --volume web-1-data.raw --format raw --delete-source
                A running machine's disk is mirrored into the new volume and switched over once the copy
                has caught up; the persistent definition names the new volume afterwards. A shut-off
                machine's disk (a pool volume) is copied. virthost op cancel ID stops a running copy and
                leaves the machine on its disk.
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Argument(help: "The disk's guest target, e.g. vda.") var target: String
        @Option(help: "The pool the disk moves to.") var pool: String
        @Option(help: "The new volume's name (default: MACHINE-TARGET.FORMAT).") var volume: String?
        @Option(help: "qcow2 (default in file pools) or raw.") var format: String?
        @Flag(help: "Delete the source volume after a successful switch.") var deleteSource = false
        @Option(help: "Limit a running machine's copy to this many MiB/s.") var bandwidth: UInt32?
        @Flag(help: "Return the operation id at once; follow it with virthost op wait.") var async = false

        func run() async throws {
            let move = { (client: VirtHostClient) in
                try await client.moveDisk(
                    domain: domain, target: target, pool: pool, volume: volume ?? "", format: format ?? "", deleteSource: deleteSource,
                    bandwidthMiB: bandwidth ?? 0)
            }
            if async { return try await options.startAsync("Moving \(domain) \(target) to pool \(pool)", move) }
            let disk = try await options.withProgress("Moving", move)
            if options.json { return try Output.json(disk) }
            Output.line("Disk \(disk.target) of \(domain) now on \(DiskCommand.source(disk))")
        }
    }
}
