import Foundation
import Libvirt
import Testing
import VirtHostClient

/// The guest the disk-job suite borrows: a 16 MiB qcow2 disk as vda.
let diskJobTestsGuest = SharedGuest(disk: .qcow2)

/// Backups and disk moves of a running guest through a real virthostd,
/// checked from inside the guest: what it reads from its disk against what
/// the host reads from the backup and moved volumes.
@Suite(
    .serialized, .sharedGuest(diskJobTestsGuest),
    .enabled(if: TestBed.shouldRun, "needs root, libvirtd and the test guest; make test sets them up"))
struct DiskJobTests {
    /// The guest's whole disk, hashed inside the guest.
    static func guestHash(_ guest: TestGuest) async throws -> String {
        let output = try await GuestShell.run(guest, "sync; sha256sum /dev/vda", timeout: 60)
        return String(output.split(separator: " ").first ?? "")
    }

    /// A volume's contents read on the host as raw bytes, hashed.
    static func hostHash(_ path: String, format: String) throws -> String {
        let raw = "/tmp/\(TestBed.prefix)hash-\(UUID().uuidString).raw"
        defer { try? FileManager.default.removeItem(atPath: raw) }
        try AgentBed.run("/usr/bin/qemu-img", ["convert", "-U", "-f", format, "-O", "raw", path, raw])
        return String(try AgentBed.run("/usr/bin/sha256sum", [raw]).stdout.split(separator: " ").first ?? "")
    }

    /// Writes `megabytes` of random data at `offset` MiB of the guest's disk.
    static func write(_ guest: TestGuest, offset: Int, megabytes: Int) async throws {
        let output = try await GuestShell.run(
            guest, "dd if=/dev/urandom of=/dev/vda bs=1M seek=\(offset) count=\(megabytes) conv=fsync 2>&1; echo rc=$?", timeout: 60)
        #expect(output.contains("rc=0"), "dd in the guest: \(output)")
    }

    @Test func fullAndIncrementalBackupsRestoreWhatTheGuestReadsAndALiveMoveKeepsItsData() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "diskjobs")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        var restarted: AgentProcess?
        defer { if let restarted, restarted.process.isRunning { restarted.process.terminate() } }
        try await diskJobTestsGuest.lend(agent.client, last: true) { guest in
            try await StorageBed.withPools { janitor in
                var client = agent.client
                var pools: [String] = []
                for name in ["bkp", "fast"] {
                    var spec = Virthost_V1_PoolSpec()
                    spec.name = janitor.pool(name)
                    spec.targetPath = try janitor.folder(name, create: false)
                    spec.dir = .init()
                    _ = try await client.definePool(spec, build: true, start: true)
                    pools.append(spec.name)
                }
                let (backupPool, fastPool) = (pools[0], pools[1])

                // A full backup of what the guest wrote, then an incremental one.
                try await Self.write(guest, offset: 0, megabytes: 6)
                let full = try await client.startBackup(domain: guest.name, pool: backupPool)
                #expect(full.state == .complete && !full.incremental && full.disks.map(\.target) == ["vda"])
                let fullHash = try await Self.guestHash(guest)
                try await Self.write(guest, offset: 10, megabytes: 1)
                let incremental = try await client.startBackup(domain: guest.name, pool: backupPool, incremental: true)
                #expect(incremental.state == .complete && incremental.incremental && incremental.parent == full.id)
                #expect(incremental.size * 3 < full.size, "incremental \(incremental.size) B against full \(full.size) B")
                let nowHash = try await Self.guestHash(guest)
                #expect(nowHash != fullHash)

                let listed = try await client.listBackups(domain: guest.name)
                #expect(listed.backups.map(\.id) == [full.id, incremental.id])
                #expect(listed.checkpoints.map(\.name) == [full.id, incremental.id])

                // Restores: the newest equals the guest's disk now, the full one the disk then.
                let restored = try await client.restoreBackup(
                    domain: guest.name, disk: "vda", pool: fastPool, volume: "restored.raw", format: "raw")
                #expect(try Self.hostHash(restored.path, format: "raw") == nowHash)
                let older = try await client.restoreBackup(
                    domain: guest.name, disk: "vda", pool: fastPool, volume: "older.qcow2", backup: full.id)
                #expect(try Self.hostHash(older.path, format: "qcow2") == fullHash)

                // Refusals change nothing: an incremental since an unknown backup, a missing pool.
                let unknown = await AgentBed.error {
                    _ = try await client.startBackup(domain: guest.name, pool: backupPool, since: "bk-none")
                }
                #expect(unknown?.code == .notFound)
                #expect(try await client.listBackups(domain: guest.name).backups.count == 2)

                // A move to a missing pool or of a missing disk: nothing changes.
                let before = try await client.listDisks(domain: guest.name)
                let noPool = await AgentBed.error {
                    _ = try await client.moveDisk(domain: guest.name, target: "vda", pool: "\(TestBed.prefix)no-such-pool")
                }
                #expect(noPool?.code == .notFound, "\(String(describing: noPool))")
                let noDisk = await AgentBed.error {
                    _ = try await client.moveDisk(domain: guest.name, target: "vdq", pool: fastPool)
                }
                #expect(noDisk?.code == .notFound, "\(String(describing: noDisk))")
                #expect(try await client.listDisks(domain: guest.name) == before)
                #expect(try await client.listVolumes(pool: fastPool).map(\.name).sorted() == ["older.qcow2", "restored.raw"])

                // A live move slowed to 1 MiB/s and cancelled: the machine stays on its
                // disk, the copy stops and the new volume goes.
                let direct = try guest.connection.lookupDomain(name: guest.name)
                let cancelNotes = ResponseNotes()
                _ = try await VirtHostCallOptions.with(async: true, received: cancelNotes) {
                    try await client.moveDisk(domain: guest.name, target: "vda", pool: fastPool, volume: "cancelled.qcow2", bandwidthMiB: 1)
                }
                let cancelID = try #require(cancelNotes.operationID)
                try await Task.sleep(for: .milliseconds(500))
                _ = try await client.cancelOperation(cancelID)
                let cancelled = try await client.waitOperation(cancelID, timeout: .seconds(30))
                #expect(cancelled.state == .cancelled, "\(cancelled)")
                #expect(cancelled.cleanup.contains("deleted the new volume"), "\(cancelled.cleanup)")
                #expect(try await client.listDisks(domain: guest.name) == before)
                #expect(try direct.blockJobInfo(disk: "vda") == nil)
                #expect(try await !client.listVolumes(pool: fastPool).map(\.name).contains("cancelled.qcow2"))

                // A live move, slowed, cut by kill -9 of the agent: the restarted agent finds the
                // block job, switches the machine and updates the definition. The guest keeps its
                // data, and its later writes land on the new volume.
                let moveNotes = ResponseNotes()
                _ = try await VirtHostCallOptions.with(async: true, received: moveNotes) {
                    try await client.moveDisk(domain: guest.name, target: "vda", pool: fastPool, volume: "moved.qcow2", bandwidthMiB: 1)
                }
                let moveID = try #require(moveNotes.operationID)
                try await Task.sleep(for: .seconds(1))
                #expect(try direct.blockJobInfo(disk: "vda") != nil)
                #expect(kill(agent.process.processIdentifier, SIGKILL) == 0)
                agent.process.waitUntilExit()
                let second = try AgentProcess(name: "diskjobs-2")
                restarted = second
                client = second.client
                let finished = try await client.waitOperation(moveID, timeout: .seconds(60))
                #expect(finished.state == .succeeded, "\(finished)")
                let newPath = try await client.volume(pool: fastPool, name: "moved.qcow2").path
                let moved = try #require(try await client.listDisks(domain: guest.name).first { $0.target == "vda" })
                #expect(moved.sourcePath == newPath)
                #expect(try await Self.guestHash(guest) == nowHash)
                try await Self.write(guest, offset: 12, megabytes: 1)
                let afterMove = try await Self.guestHash(guest)
                #expect(try Self.hostHash(newPath, format: "qcow2") == afterMove)
                let persistent = try await client.listDisks(domain: guest.name, inactive: true)
                #expect(persistent.first { $0.target == "vda" }?.sourcePath == newPath)
                // The copy carries no bitmaps: the checkpoints are dropped and the next backup must be full.
                #expect(finished.cleanup.contains("dropped checkpoints"), "\(finished.cleanup)")
                #expect(try await client.listBackups(domain: guest.name).checkpoints.isEmpty)
                let afterMoveIncremental = await AgentBed.error {
                    _ = try await client.startBackup(domain: guest.name, pool: backupPool, incremental: true)
                }
                #expect(afterMoveIncremental?.code == .failedPrecondition, "\(String(describing: afterMoveIncremental))")

                // Deleting the full backup rewrites the incremental one as full: still restorable.
                try await client.deleteBackup(domain: guest.name, id: full.id)
                let remaining = try await client.listBackups(domain: guest.name)
                #expect(remaining.backups.map(\.id) == [incremental.id])
                #expect(remaining.backups.first?.parent == "")
                let again = try await client.restoreBackup(
                    domain: guest.name, disk: "vda", pool: fastPool, volume: "again.raw", format: "raw")
                #expect(try Self.hostHash(again.path, format: "raw") == nowHash)
                try await client.deleteBackup(domain: guest.name, id: incremental.id)
                #expect(try await client.listVolumes(pool: backupPool).isEmpty)
            }
        }
    }
}
