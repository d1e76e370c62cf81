import Foundation
import LibXML
import Libvirt
import VirtHostAPI

/// A typed machine (``Virthost_V1_DomainSpec``), checked field by field
/// before libvirt sees it; ``xml(connection:confinement:)`` then writes the
/// `<domain>` document through LibXML on a libvirt thread, where the pool
/// volumes it names are looked up and checked.
struct DomainSpecPlan: Sendable {
    static let maxVCPUs: UInt32 = 256
    static let minMemoryBytes: UInt64 = 16 << 20
    static let maxMemoryBytes: UInt64 = 16 << 40
    static let virtTypes = ["kvm", "qemu"]
    static let maxCmdline = 4096
    static let agentChannel = "org.qemu.guest_agent.0"

    struct Volume: Sendable, Equatable {
        var pool: String
        var name: String
    }

    var name: String
    var uuid: String
    var vcpus: UInt32
    var memoryKiB: UInt64
    /// "kvm", "qemu", or empty for the best this host offers.
    var virtType: String
    var machine: String
    var uefi: Bool
    var disks: [DiskXML.Attach]
    var kernel: Volume?
    var initrd: Volume?
    var cmdline: String
    var nics: [NICAttach]
    var guestAgent: Bool
    var serial: Virthost_V1_SerialKind
    var serialPath: String
    var autostart: Bool

    /// Checks every field; `isBlockDevice` tells a host path's kind.
    init(_ spec: Virthost_V1_DomainSpec, isBlockDevice: (String) -> Bool) throws {
        try Validate.objectName(spec.name, field: "machine name")
        if !spec.uuid.isEmpty { try Validate.uuid(spec.uuid, field: "uuid") }
        name = spec.name
        uuid = spec.uuid.lowercased()

        vcpus = spec.vcpus == 0 ? 1 : spec.vcpus
        guard vcpus <= Self.maxVCPUs else { throw Refusal.invalid("vcpus \(spec.vcpus) is over \(Self.maxVCPUs)") }
        guard spec.memoryBytes > 0 else { throw Refusal.invalid("memory_bytes is required (e.g. 536870912 for 512 MiB)") }
        guard spec.memoryBytes % (1 << 20) == 0 else {
            throw Refusal.invalid("memory_bytes \(spec.memoryBytes) is not a whole number of MiB")
        }
        guard (Self.minMemoryBytes...Self.maxMemoryBytes).contains(spec.memoryBytes) else {
            throw Refusal.invalid("memory_bytes \(spec.memoryBytes) is outside 16 MiB...16 TiB")
        }
        memoryKiB = spec.memoryBytes / 1024

        if !spec.virtType.isEmpty { try Validate.oneOf(spec.virtType, Self.virtTypes, field: "virt_type") }
        virtType = spec.virtType
        if !spec.machine.isEmpty {
            guard spec.machine.utf8.count <= 64, spec.machine.unicodeScalars.allSatisfy({
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0))
            }) else {
                throw Refusal.invalid("machine type '\(spec.machine.prefix(64))' must be 1-64 of: letters, digits, '-', '_', '.' (e.g. q35, pc)")
            }
        }
        machine = spec.machine
        switch spec.firmware {
        case .unspecified, .bios: uefi = false
        case .uefi: uefi = true
        case .UNRECOGNIZED(let value): throw Refusal.invalid("firmware \(value) is not BIOS or UEFI")
        }

        disks = try Self.disks(spec.disks, isBlockDevice: isBlockDevice)
        if spec.hasKernel {
            kernel = try Self.volume(spec.kernel.kernel, field: "kernel")
            initrd = spec.kernel.hasInitrd ? try Self.volume(spec.kernel.initrd, field: "initrd") : nil
            let cmdline = spec.kernel.cmdline
            guard cmdline.utf8.count <= Self.maxCmdline,
                  !cmdline.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
                throw Refusal.invalid("cmdline must be at most \(Self.maxCmdline) bytes without control characters")
            }
            self.cmdline = cmdline
        } else {
            kernel = nil
            initrd = nil
            cmdline = ""
        }
        if kernel == nil && disks.isEmpty {
            throw Refusal.invalid("the machine has nothing to boot: give a disk or a kernel")
        }

        nics = try spec.nics.enumerated().map { index, nic in
            var request = Virthost_V1_AttachInterfaceRequest()
            switch nic.source {
            case .network(let network):
                request.type = .network
                request.source = network
            case .bridge(let bridge):
                request.type = .bridge
                request.source = bridge
            case nil:
                throw Refusal.invalid("nic \(index + 1) has no source: give a network or a bridge")
            }
            request.model = nic.model
            request.mac = nic.mac
            request.portgroup = nic.portgroup
            return try NICAttach(request)
        }
        let macs = nics.map(\.mac).filter { !$0.isEmpty }
        if let repeated = Dictionary(grouping: macs, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw Refusal.invalid("MAC \(repeated) is given to more than one NIC")
        }

        guestAgent = !spec.noGuestAgent
        switch spec.serial.kind {
        case .unspecified, .pty, .none:
            if !spec.serial.path.isEmpty { throw Refusal.invalid("serial path applies only to a FILE serial console") }
        case .file:
            try Validate.absolutePath(spec.serial.path, field: "serial path")
        case .UNRECOGNIZED(let value):
            throw Refusal.invalid("serial kind \(value) is not PTY, FILE or NONE")
        }
        serial = spec.serial.kind
        serialPath = spec.serial.path
        autostart = spec.autostart
    }

    /// Disks with their targets: the given ones, else the next free one of
    /// the bus (vda, vdb... for virtio; sda, sdb... for scsi and sata).
    private static func disks(_ specs: [Virthost_V1_DiskSpec], isBlockDevice: (String) -> Bool) throws -> [DiskXML.Attach] {
        var used = Set(specs.map(\.target).filter { !$0.isEmpty })
        guard used.count == specs.filter({ !$0.target.isEmpty }).count else {
            throw Refusal.invalid("two disks have the same target")
        }
        return try specs.enumerated().map { index, spec in
            var request = Virthost_V1_AttachDiskRequest()
            switch spec.source {
            case .volume(let volume): request.volume = volume
            case .path(let path): request.path = path
            case nil: throw Refusal.invalid("disk \(index + 1) has no source: give a pool volume or a path")
            }
            request.bus = spec.bus
            request.cache = spec.cache
            request.readOnly = spec.readOnly
            request.serial = spec.serial
            request.format = spec.format
            if spec.target.isEmpty {
                let prefix = (spec.bus.isEmpty || spec.bus == "virtio") ? "vd" : "sd"
                guard let free = "abcdefghijklmnopqrstuvwxyz".map({ "\(prefix)\($0)" }).first(where: { !used.contains($0) }) else {
                    throw Refusal.invalid("more than 26 disks on one bus: give targets")
                }
                used.insert(free)
                request.target = free
            } else {
                request.target = spec.target
            }
            return try DiskXML.attach(request, isBlockDevice: isBlockDevice)
        }
    }

    private static func volume(_ source: Virthost_V1_VolumeSource, field: String) throws -> Volume {
        try Validate.lookupName(source.pool, field: "\(field) pool name")
        try Validate.volumeName(source.volume, field: "\(field) volume name")
        return Volume(pool: source.pool, name: source.volume)
    }

    /// Host paths the spec names (disk paths, the serial file), for the
    /// confinement checks before anything is defined.
    var hostPaths: (disks: [String], output: String?) {
        let disks = self.disks.compactMap { disk -> String? in
            switch disk.source {
            case .file(let path), .block(let path): path
            case .volume: nil
            }
        }
        return (disks, serial == .file ? serialPath : nil)
    }

    // MARK: The document

    /// The `<domain>` document; runs on a libvirt thread (looks up volumes
    /// and the host's capabilities).
    func xml(connection: Connection, confinement: StorageConfinement) throws -> String {
        let domain = XMLElement(name: "domain", attributes: [("type", try Self.domainType(virtType, connection: connection))])
        domain.addChild(XMLElement(name: "name", stringValue: name))
        if !uuid.isEmpty { domain.addChild(XMLElement(name: "uuid", stringValue: uuid)) }
        domain.addChild(XMLElement(name: "memory", attributes: [("unit", "KiB")], stringValue: "\(memoryKiB)"))
        domain.addChild(XMLElement(name: "vcpu", stringValue: "\(vcpus)"))

        let os = XMLElement(name: "os", attributes: uefi ? [("firmware", "efi")] : [])
        os.addChild(XMLElement(name: "type", attributes: machine.isEmpty ? [] : [("machine", machine)], stringValue: "hvm"))
        if let kernel {
            os.addChild(XMLElement(name: "kernel", stringValue: try volumePath(kernel, connection: connection, confinement: confinement)))
            if let initrd {
                os.addChild(XMLElement(name: "initrd", stringValue: try volumePath(initrd, connection: connection, confinement: confinement)))
            }
            if !cmdline.isEmpty { os.addChild(XMLElement(name: "cmdline", stringValue: cmdline)) }
        }
        domain.addChild(os)
        // ACPI: for a clean shutdown and for PCI hotplug (attach after boot).
        domain.addChild(XMLElement(name: "features", attributes: [], children: [XMLElement(name: "acpi"), XMLElement(name: "apic")]))
        domain.addChild(XMLElement(name: "clock", attributes: [("offset", "utc")]))
        domain.addChild(XMLElement(name: "on_poweroff", stringValue: "destroy"))
        domain.addChild(XMLElement(name: "on_reboot", stringValue: "restart"))
        domain.addChild(XMLElement(name: "on_crash", stringValue: "destroy"))

        let devices = XMLElement(name: "devices")
        for (index, var disk) in disks.enumerated() {
            var format = disk.format
            switch disk.source {
            case .volume(let poolName, let volumeName):
                let (pool, volume) = try connection.volume(pool: poolName, name: volumeName)
                try confinement.checkVolume(volume, in: pool)
                if format.isEmpty { format = VolumeXML.diskFormat(forVolumeFormat: VolumeXML.format(try volume.xml())) }
                try confinement.checkDiskImage(path: try volume.path(), format: format, what: "volume '\(volumeName)' of pool '\(poolName)'")
            case .file(let path), .block(let path):
                try confinement.checkDiskImage(path: path, format: format, what: "disk '\(path)'")
            }
            disk.noBackingStore = confinement.access.isConfined
            let element = DiskXML.element(disk, format: format.isEmpty ? "raw" : format)
            // The first disk boots, unless a kernel does.
            if index == 0 && kernel == nil { element.addChild(XMLElement(name: "boot", attributes: [("order", "1")])) }
            devices.addChild(element)
        }
        for nic in nics { devices.addChild(nic.element(mac: nic.mac)) }
        switch serial {
        case .file:
            devices.addChild(XMLElement(name: "serial", attributes: [("type", "file")], children: [
                XMLElement(name: "source", attributes: [("path", serialPath), ("append", "on")]),
                XMLElement(name: "target", attributes: [("port", "0")]),
            ]))
        case .none:
            break
        default:
            devices.addChild(XMLElement(name: "serial", attributes: [("type", "pty")], children: [
                XMLElement(name: "target", attributes: [("port", "0")])
            ]))
            devices.addChild(XMLElement(name: "console", attributes: [("type", "pty")], children: [
                XMLElement(name: "target", attributes: [("type", "serial"), ("port", "0")])
            ]))
        }
        if guestAgent {
            devices.addChild(XMLElement(name: "channel", attributes: [("type", "unix")], children: [
                XMLElement(name: "target", attributes: [("type", "virtio"), ("name", Self.agentChannel)])
            ]))
        }
        devices.addChild(XMLElement(name: "memballoon", attributes: [("model", "virtio")]))
        domain.addChild(devices)
        return domain.xmlString
    }

    /// A kernel or initrd volume's file, checked like any volume an operator uses.
    private func volumePath(_ source: Volume, connection: Connection, confinement: StorageConfinement) throws -> String {
        let (pool, volume) = try connection.volume(pool: source.pool, name: source.name)
        try confinement.checkVolume(volume, in: pool)
        return try volume.path()
    }

    /// The `<domain type>`: the one asked for, if this host's libvirt offers
    /// it for the host's architecture; else kvm, qemu, or the test driver's.
    static func domainType(_ wanted: String, connection: Connection) throws -> String {
        let reader = try XMLReader(try connection.capabilities())
        let arch = reader.string("/capabilities/host/cpu/arch") ?? ""
        var offered: [String] = []
        for guest in reader.elements("/capabilities/guest") where guest.child("os_type")?.stringValue == "hvm" {
            for archElement in guest.elements(forName: "arch") where arch.isEmpty || archElement.attr("name") == arch {
                offered += archElement.elements(forName: "domain").compactMap { $0.attr("type") }
            }
        }
        if !wanted.isEmpty {
            guard offered.contains(wanted) else {
                throw Refusal(
                    .failedPrecondition,
                    "this host's libvirt offers no '\(wanted)' machines for \(arch) (it offers: \(offered.isEmpty ? "none" : Set(offered).sorted().joined(separator: ", ")))")
            }
            return wanted
        }
        guard let best = ["kvm", "qemu", "test"].first(where: offered.contains) else {
            throw Refusal(.failedPrecondition, "this host's libvirt offers no hvm machines for \(arch)")
        }
        return best
    }
}
