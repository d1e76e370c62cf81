import Foundation
import LibXML
import Libvirt
import Testing
import VirtHostClient

/// Disks hot-attached to the test guest through a real virthostd, seen from
/// inside the guest by size and serial (a guest booted without a disk calls a
/// hot-added vdb "vda"), and gone after detach.
@Suite(.serialized, .enabled(if: TestBed.shouldRun, "needs root, libvirtd and the test guest; make test sets them up"))
struct DiskHotplugTests {
    @Test func aPoolVolumeAndAFileAppearInTheGuestAndLeaveAgain() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "disk-hotplug")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        try await TestGuest.with(disk: false) { guest in
            try await StorageBed.withPools { janitor in
                let client = agent.client
                // A pool volume of a size nothing else in the guest has.
                let pool = janitor.pool("hotplug")
                var spec = Virthost_V1_PoolSpec()
                spec.name = pool
                spec.targetPath = try janitor.folder("hotplug", create: false)
                spec.dir = .init()
                _ = try await client.definePool(spec, build: true, start: true)
                _ = try await client.createVolume(pool: pool, name: "data.qcow2", capacity: 48 << 20, format: "qcow2")
                // And a plain file, attached read-only by path.
                let file = "\(spec.targetPath)/plain.img"
                FileManager.default.createFile(atPath: file, contents: nil)
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
                try handle.truncate(atOffset: 20 << 20)
                try handle.close()

                _ = try await client.defineDomain(xml: guest.domainXML)
                _ = try await client.startDomain(guest.name)
                try await guest.waitForAgent()
                let before = try await GuestShell.blockDevices(guest)
                #expect(!before.contains { $0.sectors == 48 << 11 })

                // Attach the volume live and in the definition; format from the volume.
                let disk = try await client.attachDisk(
                    domain: guest.name, source: .volume(pool: pool, name: "data.qcow2"), target: "vdb", cache: "none",
                    serial: "vht-vol1", live: true, config: true)
                #expect(disk.target == "vdb")
                #expect(disk.bus == "virtio")
                #expect(disk.format == "qcow2")
                #expect(disk.cache == "none")
                #expect(disk.serial == "vht-vol1")
                #expect(disk.sourcePool == pool && disk.sourceVolume == "data.qcow2")
                let persistent = try await client.listDisks(domain: guest.name, inactive: true)
                #expect(persistent.map(\.target) == ["vdb"])

                let seen = try await Self.waitForDevice(guest) { $0.serial == "vht-vol1" }
                #expect(seen.sectors == 48 << 11, "guest sees \(seen)")
                #expect(!seen.readOnly)

                // A file by path, read-only, live only.
                let plain = try await client.attachDisk(
                    domain: guest.name, source: .path(file), target: "vdc", readOnly: true, serial: "vht-file1", live: true)
                #expect(plain.sourcePath == file && plain.readOnly && plain.format == "raw")
                let seenFile = try await Self.waitForDevice(guest) { $0.serial == "vht-file1" }
                #expect(seenFile.sectors == 20 << 11)
                #expect(seenFile.readOnly)
                print("end-to-end: guest sees \(try await GuestShell.blockDevices(guest))")

                // A target in use is refused; so is a missing file.
                await expectFailure(.alreadyExists, "a second disk on vdb") {
                    _ = try await client.attachDisk(domain: guest.name, source: .path(file), target: "vdb", live: true)
                }
                await expectFailure(.notFound, "a missing file") {
                    _ = try await client.attachDisk(domain: guest.name, source: .path("\(file).missing"), target: "vdd", live: true)
                }

                // Detach both live; the guest lets go.
                let started = Date()
                let detached = try await client.detachDisk(domain: guest.name, target: "vdb", live: true, config: true)
                print(String(format: "end-to-end: live detach of vdb returned in %.2f s", Date().timeIntervalSince(started)))
                #expect(detached.completed && !detached.pending)
                let detachedFile = try await client.detachDisk(domain: guest.name, target: "vdc", live: true)
                #expect(detachedFile.completed)
                try await Self.waitUntilGone(guest) { $0.serial == "vht-vol1" || $0.serial == "vht-file1" }
                #expect(try await client.listDisks(domain: guest.name).isEmpty)
                #expect(try await client.listDisks(domain: guest.name, inactive: true).isEmpty)
                await expectFailure(.notFound, "detach of a disk that is gone") {
                    _ = try await client.detachDisk(domain: guest.name, target: "vdb", live: true)
                }
                _ = try await client.destroyDomain(guest.name)
            }
        }
        #expect(await agent.stop() == 0)
    }

    @Test func configOnlyAttachChangesTheDefinitionNotTheGuest() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "disk-config")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        try await TestGuest.with(disk: false) { guest in
            try await StorageBed.withPools { janitor in
                let client = agent.client
                let folder = try janitor.folder("config-disk")
                let file = "\(folder)/extra.raw"
                FileManager.default.createFile(atPath: file, contents: Data(count: 4096))
                _ = try await client.defineDomain(xml: guest.domainXML)
                // A stopped machine: no flag means its definition.
                let disk = try await client.attachDisk(domain: guest.name, source: .path(file), target: "sdb", bus: "sata")
                #expect(disk.bus == "sata" && disk.target == "sdb")
                #expect(try await client.listDisks(domain: guest.name, inactive: true).map(\.target) == ["sdb"])
                let scsi = try await client.attachDisk(domain: guest.name, source: .path(file), target: "sdc", bus: "scsi", config: true)
                #expect(scsi.bus == "scsi")
                let defined = try await client.listDisks(domain: guest.name, inactive: true)
                #expect(defined.map(\.target) == ["sdb", "sdc"])
                #expect(defined.allSatisfy { $0.sourcePath == file && $0.format == "raw" })
                // libvirt adds the SCSI controller the disk needs.
                let xml = try await client.domainXML(guest.name, inactive: true)
                #expect(xml.contains("<controller type='scsi'"))
                let detached = try await client.detachDisk(domain: guest.name, target: "sdb")
                #expect(detached.completed)
                #expect(try await client.detachDisk(domain: guest.name, target: "sdc", config: true).completed)
                #expect(try await client.listDisks(domain: guest.name, inactive: true).isEmpty)
                // Live on a machine that is not running: libvirt's wrong-state error.
                await expectFailure(.failedPrecondition, "a live attach to a stopped machine") {
                    _ = try await client.attachDisk(domain: guest.name, source: .path(file), target: "vdb", live: true)
                }
            }
        }
        #expect(await agent.stop() == 0)
    }

    static func waitForDevice(
        _ guest: TestGuest, timeout: TimeInterval = 15, _ match: (GuestShell.BlockDevice) -> Bool
    ) async throws -> GuestShell.BlockDevice {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let devices = try await GuestShell.blockDevices(guest)
            if let device = devices.first(where: match) { return device }
            guard Date() < deadline else { throw TestBedError("the guest never saw the disk; it has \(devices)") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    static func waitUntilGone(_ guest: TestGuest, timeout: TimeInterval = 15, _ match: (GuestShell.BlockDevice) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let devices = try await GuestShell.blockDevices(guest)
            if !devices.contains(where: match) { return }
            guard Date() < deadline else { throw TestBedError("the guest still has \(devices.filter(match))") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
