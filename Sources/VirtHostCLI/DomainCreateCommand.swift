import ArgumentParser
import Foundation
import VirtHostClient

extension DomainCommand {
    /// `virthost domain create`: a machine from a typed spec, no XML written
    /// by the caller (the operator's way to make machines).
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Create a machine from its parts (no XML; operators may use it).",
            discussion: """
                Disks are pool volumes: --disk POOL/VOLUME[,target=vda][,bus=virtio|scsi|sata][,readonly]\
                [,cache=MODE][,serial=S][,format=F]. The first --disk boots, unless --kernel is given; \
                --disk-path PATH[,...] takes a host file instead (admins, or a regular file inside a storage root).
                NICs: --network NET[,model=virtio][,mac=MAC][,portgroup=PG], --bridge BR[,model=...][,mac=...].
                Example: virthost domain create web-1 --vcpus 2 --memory 2G --disk default/web-1.qcow2 \
                --network default --start
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The new machine's name.") var name: String
        @Option(help: "Virtual CPUs (default 1).") var vcpus: UInt32 = 1
        @Option(help: "Memory, e.g. 512M or 2G.") var memory: String
        @Option(help: "A pool volume as a disk: POOL/VOLUME[,target=vda][,bus=virtio][,readonly][,cache=M][,serial=S].")
        var disk: [String] = []
        @Option(name: .customLong("disk-path"), help: "A host file as a disk: PATH[,target=...][,bus=...][,readonly].")
        var diskPath: [String] = []
        @Option(help: "A NIC on a libvirt network: NET[,model=virtio][,mac=MAC][,portgroup=PG].") var network: [String] = []
        @Option(help: "A NIC on a host bridge: BR[,model=virtio][,mac=MAC].") var bridge: [String] = []
        @Option(help: "Boot this kernel, a pool volume: POOL/VOLUME.") var kernel: String?
        @Option(help: "With --kernel: the initrd, a pool volume: POOL/VOLUME.") var initrd: String?
        @Option(help: "With --kernel: the kernel command line.") var cmdline: String?
        @Option(name: .customLong("virt-type"), help: "kvm or qemu (software emulation); default: kvm when offered.")
        var virtType: String = ""
        @Option(help: "Machine type, e.g. q35 or pc (default: libvirt's).") var machine: String = ""
        @Option(help: "The serial console: pty (default), none, or file:PATH.") var serial: String = "pty"
        @Flag(help: "Boot with UEFI firmware (OVMF) instead of BIOS.") var uefi = false
        @Flag(name: .customLong("no-agent"), help: "Leave out the qemu-guest-agent channel.") var noAgent = false
        @Flag(help: "Start the machine with the host.") var autostart = false
        @Flag(help: "Start the machine now.") var start = false

        func run() async throws {
            let spec = try DomainSpecArguments.spec(
                name: name, vcpus: vcpus, memory: memory, disks: disk, diskPaths: diskPath, networks: network,
                bridges: bridge, kernel: kernel, initrd: initrd, cmdline: cmdline, virtType: virtType, machine: machine,
                serial: serial, uefi: uefi, noAgent: noAgent, autostart: autostart)
            let d = try await options.withClient { try await $0.defineDomain(spec: spec, start: start) }
            if options.json { return try Output.json(d) }
            Output.line("Domain '\(d.name)' created (uuid \(d.uuid))\(start ? " and started" : "")")
        }
    }
}

/// The `domain create` arguments as a ``Virthost_V1_DomainSpec``: pure
/// parsing, every mistake a ValidationError that names the argument.
enum DomainSpecArguments {
    static func spec(
        name: String, vcpus: UInt32, memory: String, disks: [String], diskPaths: [String], networks: [String],
        bridges: [String], kernel: String?, initrd: String?, cmdline: String?, virtType: String, machine: String,
        serial: String, uefi: Bool, noAgent: Bool, autostart: Bool
    ) throws -> Virthost_V1_DomainSpec {
        var spec = Virthost_V1_DomainSpec()
        spec.name = name
        spec.vcpus = vcpus
        spec.memoryBytes = try ByteSize.parse(memory)
        spec.virtType = virtType
        spec.machine = machine
        spec.firmware = uefi ? .uefi : .bios
        spec.noGuestAgent = noAgent
        spec.autostart = autostart
        spec.disks = try disks.map { try disk($0, option: "--disk", byPath: false) }
            + diskPaths.map { try disk($0, option: "--disk-path", byPath: true) }
        spec.nics = try networks.map { try nic($0, option: "--network", bridge: false) }
            + bridges.map { try nic($0, option: "--bridge", bridge: true) }
        if let kernel {
            spec.kernel.kernel = try volume(kernel, option: "--kernel")
            if let initrd { spec.kernel.initrd = try volume(initrd, option: "--initrd") }
            spec.kernel.cmdline = cmdline ?? ""
        } else if initrd != nil || cmdline != nil {
            throw ValidationError("--initrd and --cmdline need --kernel")
        }
        switch serial {
        case "pty": spec.serial.kind = .pty
        case "none": spec.serial.kind = .none
        case let text where text.hasPrefix("file:"):
            spec.serial.kind = .file
            spec.serial.path = String(text.dropFirst("file:".count))
        default: throw ValidationError("--serial takes pty, none or file:PATH, not '\(serial)'")
        }
        return spec
    }

    /// POOL/VOLUME (the volume name may not hold '/', so the first '/' splits).
    static func volume(_ text: String, option: String) throws -> Virthost_V1_VolumeSource {
        guard let slash = text.firstIndex(of: "/"), slash != text.startIndex, text.index(after: slash) != text.endIndex else {
            throw ValidationError("\(option) '\(text)' is not POOL/VOLUME")
        }
        return .with {
            $0.pool = String(text[..<slash])
            $0.volume = String(text[text.index(after: slash)...])
        }
    }

    /// SOURCE[,key=value|flag]...: the source and its settings.
    static func settings(_ text: String, option: String, known: Set<String>, flags: Set<String> = []) throws
        -> (source: String, values: [String: String], flags: Set<String>)
    {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let source = parts.first, !source.isEmpty else { throw ValidationError("\(option) '\(text)' names no source") }
        var values: [String: String] = [:]
        var set: Set<String> = []
        for part in parts.dropFirst() {
            if let equals = part.firstIndex(of: "=") {
                let key = String(part[..<equals])
                guard known.contains(key) else {
                    throw ValidationError("\(option): unknown setting '\(key)' (known: \((known.union(flags)).sorted().joined(separator: ", ")))")
                }
                guard values[key] == nil else { throw ValidationError("\(option): '\(key)' given twice") }
                values[key] = String(part[part.index(after: equals)...])
            } else {
                guard flags.contains(part) else {
                    throw ValidationError("\(option): unknown setting '\(part)' (known: \((known.union(flags)).sorted().joined(separator: ", ")))")
                }
                set.insert(part)
            }
        }
        return (source, values, set)
    }

    static func disk(_ text: String, option: String, byPath: Bool) throws -> Virthost_V1_DiskSpec {
        let (source, values, flags) = try settings(
            text, option: option, known: ["target", "bus", "cache", "serial", "format"], flags: ["readonly"])
        var disk = Virthost_V1_DiskSpec()
        if byPath { disk.path = source } else { disk.volume = try volume(source, option: option) }
        disk.target = values["target"] ?? ""
        disk.bus = values["bus"] ?? ""
        disk.cache = values["cache"] ?? ""
        disk.serial = values["serial"] ?? ""
        disk.format = values["format"] ?? ""
        disk.readOnly = flags.contains("readonly")
        return disk
    }

    static func nic(_ text: String, option: String, bridge: Bool) throws -> Virthost_V1_NICSpec {
        let (source, values, _) = try settings(text, option: option, known: bridge ? ["model", "mac"] : ["model", "mac", "portgroup"])
        var nic = Virthost_V1_NICSpec()
        if bridge { nic.bridge = source } else { nic.network = source }
        nic.model = values["model"] ?? ""
        nic.mac = values["mac"] ?? ""
        nic.portgroup = values["portgroup"] ?? ""
        return nic
    }
}
