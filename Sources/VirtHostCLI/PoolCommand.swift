import ArgumentParser
import Foundation
import VirtHostClient

/// `virthost pool ...`: storage pools, like virsh pool-*.
struct PoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool", abstract: "Storage pools.",
        subcommands: [
            List.self, Info.self, XML.self, Define.self, Build.self, Start.self, Stop.self, Refresh.self, Delete.self,
            Undefine.self, Autostart.self, Capabilities.self,
        ])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List pools (all, unless filtered).")
        @OptionGroup var options: ClientOptions
        @Flag(help: "Only active pools.") var active = false
        @Flag(help: "Only inactive pools.") var inactive = false
        @OptionGroup var page: PageOptions

        func run() async throws {
            var request = Virthost_V1_ListPoolsRequest()
            request.activeOnly = active
            request.inactiveOnly = inactive
            request.pageSize = page.limit
            request.namePrefix = page.prefix
            let pools = try await page.items(options, request, token: \.pageToken, { try await $0.listPools($1) }) {
                ($0.pools, $0.nextPageToken)
            }
            guard let pools else { return }
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
        static let configuration = CommandConfiguration(commandName: "info", abstract: "Show one pool (like virsh pool-info).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var name: String

        func run() async throws {
            let p = try await options.withClient { try await $0.pool(name) }
            if options.json { return try Output.json(p) }
            Output.line(PoolCommand.details(p).render())
        }
    }

    struct XML: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "xml", abstract: "Print a pool's XML (like virsh pool-dumpxml).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var name: String
        @Flag(help: "The persistent definition rather than the live one.") var inactive = false

        func run() async throws {
            let xml = try await options.withClient { try await $0.poolXML(name, inactive: inactive) }
            Output.line(xml)
        }
    }

    struct Define: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "define", abstract: "Define a pool from options or an XML file (like virsh pool-define-as / pool-define).",
            discussion: """
                Examples:
                  virthost pool define images --type dir --target /srv/images --build --start
                  virthost pool define vmfs --type fs --source-dev /dev/sdb1 --format ext4 --target /srv/vm --build --start
                  virthost pool define disks --type disk --source-dev /dev/sdc --format gpt --build --overwrite
                  virthost pool define lvm --type logical --vg vmvg --source-dev /dev/sdd
                  virthost pool define nfs --type netfs --host 127.0.0.1 --source-path /exports/vm --target /srv/nfs
                  virthost pool define san --type iscsi --host 127.0.0.1 --iqn iqn.2024-01.org.example:storage
                  virthost pool define hba --type scsi --adapter host0
                  virthost pool define npiv --type scsi --wwnn 20000000c9831b4b --wwpn 10000000c9831b4b
                  virthost pool define gv --type gluster --host 127.0.0.1 --volume gv0 --source-path /images
                  virthost pool define ceph --type rbd --monitors 127.0.0.1:6789 --rbd-pool vms --auth-user libvirt --secret UUID
                  virthost pool define --xml pool.xml --start
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name (not with --xml).") var name: String?
        @Option(help: "dir, fs, netfs, disk, logical, iscsi, scsi, gluster or rbd.") var type: String?
        @Option(help: "A <pool> XML file ('-' for stdin) instead of options.") var xml: String?
        @Option(help: "Where volumes appear on the host.") var target: String?
        @Option(name: .customLong("source-dev"), help: "A source device (fs, disk: one; logical: any number).")
        var sourceDevices: [String] = []
        @Option(help: "Source format: fs (ext4, xfs, ...), netfs (nfs, cifs, glusterfs), disk (dos, gpt).") var format: String?
        @Option(help: "Remote host (netfs, iscsi, gluster); an address such as 127.0.0.1.") var host: String?
        @Option(name: .customLong("source-path"), help: "Export path (netfs), folder in the volume (gluster), target IQN (iscsi).")
        var sourcePath: String?
        @Option(help: "TCP port (iscsi).") var port: UInt32?
        @Option(help: "Target IQN (iscsi; same as --source-path).") var iqn: String?
        @Option(help: "Initiator IQN (iscsi).") var initiator: String?
        @Option(help: "Volume group (logical).") var vg: String?
        @Option(help: "SCSI host adapter, e.g. host0 (scsi).") var adapter: String?
        @Option(help: "World wide node name of an NPIV vHBA (scsi).") var wwnn: String?
        @Option(help: "World wide port name of an NPIV vHBA (scsi).") var wwpn: String?
        @Option(help: "Parent HBA of an NPIV vHBA (scsi).") var parent: String?
        @Option(help: "Gluster volume name (gluster).") var volume: String?
        @Option(help: "Monitor hosts, host[:port][,host[:port]...] (rbd).") var monitors: String?
        @Option(name: .customLong("rbd-pool"), help: "Ceph pool name (rbd).") var rbdPool: String?
        @Option(name: .customLong("auth-user"), help: "cephx user (rbd).") var authUser: String?
        @Option(help: "UUID of the libvirt secret holding the cephx key (rbd).") var secret: String?
        @Option(help: "Owner uid of the target folder.") var owner: UInt32?
        @Option(help: "Group gid of the target folder.") var group: UInt32?
        @Option(help: "Mode of the target folder, octal (e.g. 0755).") var mode: String?
        @Option(help: "The pool's UUID (default: libvirt makes one).") var uuid: String?
        @Flag(help: "Build the pool's storage after defining it.") var build = false
        @Flag(help: "With --build: overwrite what is there (mkfs, a new partition table).") var overwrite = false
        @Flag(help: "Start the pool after defining (and building) it.") var start = false
        @Flag(help: "Start the pool with the host.") var autostart = false

        func validate() throws {
            if xml != nil {
                guard type == nil, name == nil else { throw ValidationError("give either --xml FILE or NAME --type TYPE, not both") }
            } else {
                guard name != nil, type != nil else { throw ValidationError("give NAME --type TYPE, or --xml FILE") }
            }
            if overwrite && !build { throw ValidationError("--overwrite goes with --build") }
        }

        func run() async throws {
            let pool: Virthost_V1_Pool
            if let xml {
                let document = try readInput(xml)
                pool = try await options.withClient {
                    try await $0.definePool(xml: document, build: build, overwrite: overwrite, start: start, autostart: autostart)
                }
            } else {
                let spec = try makeSpec()
                pool = try await options.withClient {
                    try await $0.definePool(spec, build: build, overwrite: overwrite, start: start, autostart: autostart)
                }
            }
            if options.json { return try Output.json(pool) }
            let steps = ["defined"] + (build ? ["built"] : []) + (start ? ["started"] : []) + (autostart ? ["marked autostart"] : [])
            Output.line("Pool \(pool.name) \(steps.joined(separator: ", ")) (\(pool.type), \(pool.state.label))")
        }

        /// The typed spec from the options, refusing options the type does not use.
        func makeSpec() throws -> Virthost_V1_PoolSpec {
            let type = self.type ?? ""
            var spec = Virthost_V1_PoolSpec()
            spec.name = name ?? ""
            if let target { spec.targetPath = target }
            if let uuid { spec.uuid = uuid }
            if let owner { spec.ownerUid = owner }
            if let group { spec.ownerGid = group }
            if let mode {
                guard let value = UInt32(mode, radix: 8), value <= 0o7777 else {
                    throw ValidationError("--mode '\(mode)' is not an octal file mode like 0755")
                }
                spec.mode = value
            }
            let given: [(String, Bool)] = [
                ("--source-dev", !sourceDevices.isEmpty), ("--format", format != nil), ("--host", host != nil),
                ("--source-path", sourcePath != nil), ("--port", port != nil), ("--iqn", iqn != nil),
                ("--initiator", initiator != nil), ("--vg", vg != nil), ("--adapter", adapter != nil), ("--wwnn", wwnn != nil),
                ("--wwpn", wwpn != nil), ("--parent", parent != nil), ("--volume", volume != nil),
                ("--monitors", monitors != nil), ("--rbd-pool", rbdPool != nil), ("--auth-user", authUser != nil),
                ("--secret", secret != nil),
            ]
            func allow(_ names: String...) throws {
                for (option, set) in given where set && !names.contains(option) {
                    throw ValidationError("\(option) does not apply to a \(type) pool")
                }
            }
            func oneDevice() throws -> String {
                guard sourceDevices.count == 1 else { throw ValidationError("a \(type) pool takes exactly one --source-dev") }
                return sourceDevices[0]
            }
            switch type {
            case "dir":
                try allow()
                spec.dir = .init()
            case "fs":
                try allow("--source-dev", "--format")
                spec.fs = .with {
                    $0.device = (try? oneDevice()) ?? ""
                    $0.format = format ?? ""
                }
                _ = try oneDevice()
            case "netfs":
                try allow("--host", "--source-path", "--format")
                spec.netfs = .with {
                    $0.host = host ?? ""
                    $0.exportPath = sourcePath ?? ""
                    $0.format = format ?? ""
                }
            case "disk":
                try allow("--source-dev", "--format")
                let device = try oneDevice()
                spec.disk = .with {
                    $0.device = device
                    $0.format = format ?? ""
                }
            case "logical":
                try allow("--vg", "--source-dev")
                spec.logical = .with {
                    $0.volumeGroup = vg ?? ""
                    $0.devices = sourceDevices
                }
            case "iscsi":
                // libvirt keeps the target IQN as the source device's path, so
                // --source-path names it too.
                try allow("--host", "--port", "--iqn", "--source-path", "--initiator")
                if let iqn, let sourcePath, iqn != sourcePath {
                    throw ValidationError("--iqn and --source-path both name the target IQN; give one")
                }
                spec.iscsi = .with {
                    $0.host = host ?? ""
                    $0.port = port ?? 0
                    $0.targetIqn = iqn ?? sourcePath ?? ""
                    $0.initiatorIqn = initiator ?? ""
                }
            case "scsi":
                try allow("--adapter", "--wwnn", "--wwpn", "--parent")
                spec.scsi = .with {
                    $0.adapter = adapter ?? ""
                    $0.wwnn = wwnn ?? ""
                    $0.wwpn = wwpn ?? ""
                    $0.parent = parent ?? ""
                }
            case "gluster":
                try allow("--host", "--volume", "--source-path")
                spec.gluster = .with {
                    $0.host = host ?? ""
                    $0.volume = volume ?? ""
                    $0.folder = sourcePath ?? ""
                }
            case "rbd":
                try allow("--monitors", "--rbd-pool", "--auth-user", "--secret")
                spec.rbd = .with {
                    $0.monitors = (monitors ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
                    $0.pool = rbdPool ?? ""
                    $0.authUser = authUser ?? ""
                    $0.secretUuid = secret ?? ""
                }
            default:
                throw ValidationError("--type '\(type)' is not one of: dir, fs, netfs, disk, logical, iscsi, scsi, gluster, rbd")
            }
            return spec
        }
    }

    struct Build: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "build", abstract: "Build a pool's storage (like virsh pool-build).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var name: String
        @Flag(help: "Overwrite what is there (mkfs, a new partition table).") var overwrite = false
        @Flag(help: "Return the operation id at once; follow it with virthost op wait.") var async = false

        func run() async throws {
            if async { return try await options.startAsync("Building pool \(name)") { try await $0.buildPool(name, overwrite: overwrite) } }
            let pool = try await options.withClient { try await $0.buildPool(name, overwrite: overwrite) }
            try PoolCommand.report(pool, "built", options)
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a pool (like virsh pool-start).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var name: String

        func run() async throws {
            try PoolCommand.report(try await options.withClient { try await $0.startPool(name) }, "started", options)
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop a pool (like virsh pool-destroy; no data is removed).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var name: String

        func run() async throws {
            try PoolCommand.report(try await options.withClient { try await $0.stopPool(name) }, "stopped", options)
        }
    }

    struct Refresh: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "refresh", abstract: "Rescan a pool's volumes (like virsh pool-refresh).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var name: String

        func run() async throws {
            try PoolCommand.report(try await options.withClient { try await $0.refreshPool(name) }, "refreshed", options)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete", abstract: "Delete a stopped pool's storage (like virsh pool-delete: the folder, the partition table...).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var name: String
        @Flag(help: "Return the operation id at once; follow it with virthost op wait.") var async = false

        func run() async throws {
            if async { return try await options.startAsync("Deleting pool \(name)") { try await $0.deletePool(name) } }
            try await options.withClient { try await $0.deletePool(name) }
            if options.json { return try Output.json(Virthost_V1_Empty()) }
            Output.line("Pool \(name) deleted")
        }
    }

    struct Undefine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "undefine", abstract: "Remove a pool's definition (like virsh pool-undefine).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var name: String

        func run() async throws {
            try await options.withClient { try await $0.undefinePool(name) }
            if options.json { return try Output.json(Virthost_V1_Empty()) }
            Output.line("Pool \(name) undefined")
        }
    }

    struct Autostart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "autostart", abstract: "Start a pool with the host, or not (like virsh pool-autostart).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The pool's name.") var name: String
        @Flag(help: "Do not start it with the host.") var disable = false

        func run() async throws {
            let pool = try await options.withClient { try await $0.setPoolAutostart(name, !disable) }
            try PoolCommand.report(pool, disable ? "no longer starts with the host" : "starts with the host", options)
        }
    }

    struct Capabilities: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "capabilities", abstract: "Which pool types this host supports (like virsh pool-capabilities).")
        @OptionGroup var options: ClientOptions
        @Flag(help: "Print libvirt's XML.") var xml = false

        func run() async throws {
            let capabilities = try await options.withClient { try await $0.poolCapabilities() }
            if xml { return Output.line(capabilities.xml) }
            if options.json { return try Output.json(capabilities.types) }
            var table = Table("Type", "Supported", "Source formats", "Volume formats")
            for t in capabilities.types {
                table.add(
                    t.type, Format.yesNo(t.supported), t.sourceFormats.isEmpty ? "-" : t.sourceFormats.joined(separator: ","),
                    t.volumeFormats.isEmpty ? "-" : Self.short(t.volumeFormats))
            }
            Output.line(table.render())
        }

        static func short(_ formats: [String]) -> String {
            formats.count <= 6 ? formats.joined(separator: ",") : formats.prefix(6).joined(separator: ",") + ",..."
        }
    }

    static func report(_ pool: Virthost_V1_Pool, _ what: String, _ options: ClientOptions) throws {
        if options.json { return try Output.json(pool) }
        Output.line("Pool \(pool.name) \(what) (\(pool.state.label))")
    }

    /// virsh pool-info's lines, plus the pool's source.
    static func details(_ p: Virthost_V1_Pool) -> Details {
        var details = Details()
        details.add("Name", p.name)
        details.add("UUID", p.uuid)
        details.add("Type", p.type)
        details.add("State", p.state.label)
        details.add("Persistent", Format.yesNo(p.persistent))
        details.add("Autostart", Format.yesNo(p.autostart))
        if !p.targetPath.isEmpty { details.add("Target", p.targetPath) }
        for (key, value) in sourceLines(p.spec) where !value.isEmpty { details.add(key, value) }
        details.add("Capacity", Format.bytes(p.capacity))
        details.add("Allocation", Format.bytes(p.allocation))
        details.add("Available", Format.bytes(p.available))
        if p.state == .running { details.add("Volumes", String(p.volumeCount)) }
        return details
    }

    static func sourceLines(_ spec: Virthost_V1_PoolSpec) -> [(String, String)] {
        switch spec.kind {
        case .fs(let fs): return [("Source", fs.device), ("Format", fs.format)]
        case .netfs(let n): return [("Source", "\(n.host):\(n.exportPath)"), ("Format", n.format)]
        case .disk(let d): return [("Source", d.device), ("Format", d.format)]
        case .logical(let l): return [("Volume group", l.volumeGroup), ("Devices", l.devices.joined(separator: ","))]
        case .iscsi(let i):
            return [("Source", i.port == 0 ? i.host : "\(i.host):\(i.port)"), ("Target IQN", i.targetIqn), ("Initiator", i.initiatorIqn)]
        case .scsi(let s):
            return s.adapter.isEmpty ? [("WWNN", s.wwnn), ("WWPN", s.wwpn), ("Parent", s.parent)] : [("Adapter", s.adapter)]
        case .gluster(let g): return [("Source", "\(g.host):\(g.volume)\(g.folder == "/" ? "" : g.folder)")]
        case .rbd(let r):
            return [("Monitors", r.monitors.joined(separator: ",")), ("RBD pool", r.pool), ("Auth user", r.authUser), ("Secret", r.secretUuid)]
        case .dir, nil: return []
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
