import ArgumentParser
import Foundation
import SwiftProtobuf
import VirtHostClient

/// `virthost snapshot ...`: machine snapshots, like virsh snapshot-create-as,
/// snapshot-list, snapshot-dumpxml, snapshot-revert and snapshot-delete.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Machine snapshots.",
        subcommands: [Create.self, List.self, XML.self, Revert.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Take a snapshot (like virsh snapshot-create-as).",
            discussion: """
                Internal snapshots need every disk in qcow2. --disk-only makes an external snapshot: a \
                qcow2 overlay next to each disk's file. --quiesce freezes the guest's file systems \
                through the guest agent while it is taken (needs --disk-only).
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Argument(help: "The snapshot's name.") var name: String
        @Option(help: "A description.") var description: String = ""
        @Flag(name: .customLong("disk-only"), help: "An external, disk-only snapshot.") var diskOnly = false
        @Flag(help: "Freeze the guest's file systems through the guest agent meanwhile.") var quiesce = false
        @Flag(name: .customLong("no-metadata"), help: "Keep no libvirt metadata for it.") var noMetadata = false

        func run() async throws {
            let snapshot = try await options.withClient {
                try await $0.createSnapshot(
                    domain: domain, name: name, description: description, diskOnly: diskOnly, quiesce: quiesce,
                    noMetadata: noMetadata)
            }
            if options.json { return try Output.json(snapshot) }
            Output.line("Domain snapshot \(snapshot.name) created")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List a machine's snapshots (like virsh snapshot-list --parent).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @OptionGroup var page: PageOptions

        func run() async throws {
            var request = Virthost_V1_ListSnapshotsRequest()
            request.domain = .named(domain)
            request.pageSize = page.limit
            request.namePrefix = page.prefix
            let snapshots = try await page.items(options, request, token: \.pageToken, { try await $0.listSnapshots($1) }) {
                ($0.snapshots, $0.nextPageToken)
            }
            guard let snapshots else { return }
            Output.line(SnapshotCommand.table(snapshots).render())
        }
    }

    struct XML: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "xml", abstract: "Print a snapshot's XML (like virsh snapshot-dumpxml).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Argument(help: "The snapshot's name.") var name: String

        func run() async throws {
            let xml = try await options.withClient { try await $0.snapshotXML(domain: domain, name: name) }
            if options.json { return try Output.json(Virthost_V1_GetSnapshotXMLResponse.with { $0.xml = xml }) }
            Output.line(xml.hasSuffix("\n") ? String(xml.dropLast()) : xml)
        }
    }

    struct Revert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revert", abstract: "Revert a machine to a snapshot (like virsh snapshot-revert).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Argument(help: "The snapshot's name.") var name: String

        func run() async throws {
            let snapshot = try await options.withClient { try await $0.revertSnapshot(domain: domain, name: name) }
            if options.json { return try Output.json(snapshot) }
            Output.line("Domain snapshot \(name) reverted")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete", abstract: "Delete a snapshot (like virsh snapshot-delete); an external one is merged back.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Argument(help: "The snapshot's name.") var name: String
        @Flag(name: .customLong("metadata"), help: "Only forget it in libvirt; keep its data.") var metadataOnly = false
        @Flag(help: "Delete its descendants too.") var children = false

        func run() async throws {
            try await options.withClient {
                try await $0.deleteSnapshot(domain: domain, name: name, metadataOnly: metadataOnly, children: children)
            }
            if options.json { return try Output.json(Virthost_V1_Empty()) }
            Output.line("Domain snapshot \(name) deleted")
        }
    }

    static func table(_ snapshots: [Virthost_V1_Snapshot]) -> Table {
        var table = Table("Name", "Creation Time", "State", "Parent", "Current")
        for s in snapshots {
            table.add(
                s.name, s.hasCreatedAt ? AgentCommand.timestamp(s.createdAt.date) : "-", s.state, s.parent,
                s.current ? "yes" : "")
        }
        return table
    }
}
