import ArgumentParser
import VirtHostClient

/// `virthost nodedev ...`: the host's devices as libvirt sees them, SR-IOV and NPIV.
struct NodedevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodedev", abstract: "Host devices (like virsh nodedev-*): PCI, net, SCSI hosts; SR-IOV VFs; NPIV vHBAs.",
        subcommands: [List.self, Info.self, Sriov.self, CreateVhba.self, Destroy.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List node devices (like virsh nodedev-list).")
        @OptionGroup var options: ClientOptions
        @Option(help: "Only devices with this capability: pci, net, scsi_host, usb_device, storage, fc_host, vports...")
        var cap: String = ""
        @OptionGroup var page: PageOptions

        func run() async throws {
            var request = Virthost_V1_ListNodeDevicesRequest()
            request.capability = cap
            request.pageSize = page.limit
            request.namePrefix = page.prefix
            let devices = try await page.items(options, request, token: \.pageToken, { try await $0.listNodeDevices($1) }) {
                ($0.devices, $0.nextPageToken)
            }
            guard let devices else { return }
            var table = Table("Name", "Capabilities", "Driver", "Address/Interface")
            for d in devices {
                table.add(
                    d.name, d.capabilities.joined(separator: ","), d.driver.isEmpty ? "-" : d.driver,
                    !d.pciAddress.isEmpty ? d.pciAddress : (d.interface.isEmpty ? "-" : d.interface))
            }
            Output.line(table.render())
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "info", abstract: "Show a node device (like virsh nodedev-dumpxml, read).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "libvirt's name (pci_0000_00_03_0) or a PCI address (0000:00:03.0).") var name: String
        @Flag(help: "Print libvirt's XML.") var xml = false

        func run() async throws {
            let d = try await options.withClient { try await $0.nodeDevice(name) }
            if options.json { return try Output.json(d) }
            if xml { return Output.line(d.xml) }
            Output.line("Name:          \(d.name)")
            Output.line("Parent:        \(d.parent.isEmpty ? "-" : d.parent)")
            Output.line("Capabilities:  \(d.capabilities.joined(separator: ", "))")
            Output.line("Driver:        \(d.driver.isEmpty ? "-" : d.driver)")
            if !d.pciAddress.isEmpty {
                Output.line("PCI address:   \(d.pciAddress)")
                Output.line("Vendor:        \(d.vendorID) \(d.vendor)")
                Output.line("Product:       \(d.productID) \(d.product)")
                Output.line("IOMMU group:   \(d.hasIommuGroup ? String(d.iommuGroup) : "- (no IOMMU)")")
                Output.line("SR-IOV:        \(d.hasSriovMaxVfs ? "up to \(d.sriovMaxVfs) VFs (\(d.sriovVfs.count) enabled)" : (d.sriovPf.isEmpty ? "no" : "VF of \(d.sriovPf)"))")
            }
            if !d.interface.isEmpty { Output.line("Interface:     \(d.interface)") }
            if d.hasScsiHost { Output.line("SCSI host:     \(d.scsiHost)") }
            if !d.wwpn.isEmpty { Output.line("WWNN/WWPN:     \(d.wwnn) / \(d.wwpn)") }
        }
    }

    struct Sriov: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sriov", abstract: "Set a physical function's SR-IOV VF count (sriov_numvfs).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The PF: a PCI address, node device name or interface name.") var device: String
        @Option(help: "Number of VFs (0 removes them).") var vfs: UInt32

        func run() async throws {
            let d = try await options.withClient { try await $0.setSriovVfs(device, vfs: vfs) }
            if options.json { return try Output.json(d) }
            Output.line("\(d.name): \(d.sriovVfs.count) VFs")
        }
    }

    struct CreateVhba: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-vhba", abstract: "Create an NPIV vHBA on an FC HBA (like virsh nodedev-create with fc_host).")
        @OptionGroup var options: ClientOptions
        @Option(help: "The vport-capable SCSI host, e.g. scsi_host5.") var parent: String
        @Option(help: "World wide node name, 16 hex digits.") var wwnn: String
        @Option(help: "World wide port name, 16 hex digits.") var wwpn: String

        func run() async throws {
            let d = try await options.withClient { try await $0.createVhba(parent: parent, wwnn: wwnn, wwpn: wwpn) }
            if options.json { return try Output.json(d) }
            Output.line("vHBA '\(d.name)' created on '\(parent)'")
        }
    }

    struct Destroy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "destroy", abstract: "Destroy a vHBA made with create-vhba (like virsh nodedev-destroy).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The vHBA's node device name.") var name: String

        func run() async throws {
            try await options.withClient { try await $0.destroyNodeDevice(name) }
            if options.json { return try Output.json(Virthost_V1_Empty()) }
            Output.line("Node device '\(name)' destroyed")
        }
    }
}

/// `virthost hostdev ...`: PCI passthrough.
struct HostdevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hostdev", abstract: "PCI passthrough: assignable host devices, and a machine's PCI devices.",
        subcommands: [List.self, Attach.self, Detach.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List assignable host PCI devices, or with DOMAIN the machine's PCI host devices.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "A machine: list its PCI host devices instead.") var domain: String?
        @Flag(help: "With DOMAIN: read the persistent definition.") var inactive = false

        func run() async throws {
            if let domain {
                let hostdevs = try await options.withClient { try await $0.listHostdevs(domain: domain, inactive: inactive) }
                if options.json { return try Output.json(hostdevs) }
                var table = Table("PCI address", "Managed", "Alias")
                for h in hostdevs { table.add(h.pciAddress, h.managed ? "yes" : "no", h.alias.isEmpty ? "-" : h.alias) }
                return Output.line(table.render())
            }
            let devices = try await options.withClient { try await $0.listAssignableDevices() }
            if options.json { return try Output.json(devices) }
            var table = Table("PCI address", "Vendor", "Product", "Driver", "IOMMU group")
            for d in devices {
                table.add(
                    d.pciAddress, d.vendor.isEmpty ? d.vendorID : d.vendor, d.product.isEmpty ? d.productID : d.product,
                    d.driver.isEmpty ? "-" : d.driver, d.hasIommuGroup ? String(d.iommuGroup) : "-")
            }
            Output.line(table.render())
        }
    }

    struct Attach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "attach", abstract: "Hand a host PCI device to a machine (<hostdev type='pci'>).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Option(help: "The PCI address, DDDD:BB:SS.F.") var pci: String
        @Flag(help: "libvirt binds the device to vfio-pci and back (managed='yes').") var managed = false
        @OptionGroup var scope: IfaceCommand.ScopeOptions

        func run() async throws {
            let h = try await options.withClient {
                try await $0.attachHostdev(domain: domain, pciAddress: pci, managed: managed, scope: scope.scope)
            }
            if options.json { return try Output.json(h) }
            Output.line("PCI device \(h.pciAddress) attached to '\(domain)'")
        }
    }

    struct Detach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "detach", abstract: "Take a host PCI device away from a machine.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Option(help: "The PCI address, DDDD:BB:SS.F.") var pci: String
        @Option(help: "Seconds to wait for the guest to release a live device.") var wait: Double = 10
        @OptionGroup var scope: IfaceCommand.ScopeOptions

        func validate() throws {
            guard wait > 0, wait <= 3600 else { throw ValidationError("--wait must be within 0-3600 seconds") }
        }

        func run() async throws {
            let result = try await options.withClient {
                try await $0.detachHostdev(
                    domain: domain, pciAddress: pci, scope: scope.scope, timeout: .milliseconds(Int64(wait * 1000) + 500))
            }
            if options.json { return try Output.json(result) }
            Output.line(result.pending ? "PCI device \(pci) detach requested; still pending" : "PCI device \(pci) detached")
        }
    }
}
