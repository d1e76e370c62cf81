import Foundation
import Libvirt
import Testing
import VirtHostClient

/// Snapshots of a real guest through virthostd: a quiesced disk-only
/// (external) snapshot of a raw ext4 disk, and an internal snapshot of a
/// qcow2 guest reverted for real.
@Suite(.serialized, .enabled(if: TestBed.shouldRun, "needs root, libvirtd and the test guest; make test sets them up"))
struct SnapshotTests {
    @Test func quiescedDiskOnlySnapshotCreatedListedDeleted() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "snap-quiesce")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await TestGuest.with(disk: true) { guest in
            let client = agent.client
            try await guest.boot(client, xml: try guest.prepareDisk(.rawExt4))
            let name = guest.name
            try await guest.mountData(client)
            try await guest.shell(client, "echo before > /mnt/data/marker; sync")
            let base = try #require(guest.diskPath)
            #expect(try guest.liveDiskSources() == [base])

            let start = ContinuousClock.now
            let snapshot = try await client.createSnapshot(
                domain: name, name: "nightly", description: "quiesced through qemu-ga", diskOnly: true, quiesce: true)
            let took = ContinuousClock.now - start
            print("end-to-end: quiesced disk-only snapshot took \(AgentBed.ms(took))")
            #expect(snapshot.name == "nightly")
            #expect(snapshot.domain == name)
            #expect(snapshot.diskOnly && snapshot.state == "disk-snapshot")
            #expect(snapshot.description_p == "quiesced through qemu-ga")
            #expect(snapshot.current)
            let overlay = "\(guest.folder)/disk0.nightly"
            #expect(snapshot.disks.map(\.name) == ["vda"])
            #expect(snapshot.disks.first?.snapshot == "external")
            #expect(snapshot.disks.first?.file == overlay)
            #expect(FileManager.default.fileExists(atPath: overlay))
            #expect(try guest.liveDiskSources() == [overlay])
            // The freeze was lifted again.
            #expect(try await client.filesystemsFrozen(domain: name) == false)
            try await guest.shell(client, "echo after > /mnt/data/marker2; sync")

            // Listed, and its XML is libvirt's.
            let list = try await client.listSnapshots(domain: name)
            #expect(list.map(\.name) == ["nightly"])
            let direct = try guest.connection.lookupDomain(name: name).lookupSnapshot(name: "nightly")
            #expect(try await client.snapshotXML(domain: name, name: "nightly") == (try direct.xml()))
            let table = try AgentBed.cli(agent.socketPath, ["snapshot", "list", name])
            #expect(table.status == 0 && table.stdout.contains("nightly") && table.stdout.contains("disk-snapshot"))

            // libvirt 9.0 cannot revert to an external snapshot: a clear error, nothing changes.
            let revert = await AgentBed.error { try await client.revertSnapshot(domain: name, name: "nightly") }
            #expect(revert?.message.contains("revert to external snapshot not supported") == true)
            #expect(try guest.liveDiskSources() == [overlay])

            // Deleting merges the overlay back into the raw disk.
            try await client.deleteSnapshot(domain: name, name: "nightly")
            #expect(try await client.listSnapshots(domain: name).isEmpty)
            #expect(try guest.liveDiskSources() == [base])
            #expect(!FileManager.default.fileExists(atPath: overlay))
            #expect(try await guest.shell(client, "cat /mnt/data/marker /mnt/data/marker2") == "before\nafter\n")
        }
        #expect(await agent.stop() == 0)
    }

    @Test func internalSnapshotRevertsTheRunningGuest() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "snap-internal")
        defer { _ = agent.process.isRunning ? agent.process.terminate() : () }
        try await TestGuest.with(disk: true) { guest in
            let client = agent.client
            try await guest.boot(client, xml: try guest.prepareDisk(.qcow2))
            let name = guest.name
            try await guest.shell(client, "echo one > /tmp/state")

            let created = try AgentBed.cli(agent.socketPath, ["snapshot", "create", name, "clean", "--description", "before the change"])
            #expect(created.status == 0, "\(created.stderr)")
            #expect(created.stdout == "Domain snapshot clean created\n")
            let snapshot = try #require(try await client.listSnapshots(domain: name).first)
            #expect(snapshot.name == "clean" && snapshot.state == "running" && !snapshot.diskOnly && snapshot.current)
            #expect(snapshot.disks.first?.snapshot == "internal")
            let second = try await client.createSnapshot(domain: name, name: "later")
            #expect(second.parent == "clean")

            try await guest.shell(client, "echo two > /tmp/state")
            let start = ContinuousClock.now
            let reverted = try await client.revertSnapshot(domain: name, name: "clean")
            print("end-to-end: revert to an internal snapshot took \(AgentBed.ms(ContinuousClock.now - start))")
            #expect(reverted.current)
            #expect(try await client.domain(name).state == .running)
            // The guest's memory is the snapshot's: the later write is gone.
            try await guest.waitForAgent(timeout: 30)
            #expect(try await guest.shell(client, "cat /tmp/state") == "one\n")

            let xml = try AgentBed.cli(agent.socketPath, ["snapshot", "xml", name, "clean"])
            #expect(xml.stdout.contains("<description>before the change</description>"))
            let deleted = try AgentBed.cli(agent.socketPath, ["snapshot", "delete", name, "clean", "--children"])
            #expect(deleted.status == 0 && deleted.stdout == "Domain snapshot clean deleted\n")
            #expect(try await client.listSnapshots(domain: name).isEmpty)
        }
        #expect(await agent.stop() == 0)
    }
}
