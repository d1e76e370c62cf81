import Foundation
import Testing
@testable import VirtHostServer
import VirtHostClient

/// Disk moves and backups without a hypervisor: their XML, the qcow2 header
/// reader the restore relies on, and requests refused before libvirt.
struct DiskJobXMLTests {
    @Test func checkpointXMLReadsNameParentTimeAndBitmapDisks() throws {
        let checkpoint = try DiskJobXML.checkpoint("""
            <domaincheckpoint>
              <name>bk-2</name>
              <parent><name>bk-1</name></parent>
              <creationTime>1796243907</creationTime>
              <disks>
                <disk name='vda' checkpoint='bitmap' bitmap='bk-2'/>
                <disk name='vdb' checkpoint='no'/>
              </disks>
              <domain type='qemu'><name>web</name></domain>
            </domaincheckpoint>
            """)
        #expect(checkpoint.name == "bk-2")
        #expect(checkpoint.parent == "bk-1")
        #expect(checkpoint.createdAt.seconds == 1_796_243_907)
        #expect(checkpoint.disks == ["vda"])
    }

    @Test func backupAndCheckpointDocumentsNameEveryDisk() throws {
        let backup = DiskJobXML.backup(into: [("vda", "/p/a.qcow2")], allTargets: ["vda", "vdb"], since: "bk-1")
        let reader = try XMLReader(backup)
        #expect(reader.string("/domainbackup/@mode") == "push")
        #expect(reader.string("/domainbackup/incremental") == "bk-1")
        #expect(reader.string("/domainbackup/disks/disk[@name='vda']/target/@file") == "/p/a.qcow2")
        #expect(reader.string("/domainbackup/disks/disk[@name='vdb']/@backup") == "no")
        let full = try XMLReader(DiskJobXML.backup(into: [("vda", "/p/a.qcow2")], allTargets: ["vda"], since: nil))
        #expect(full.string("/domainbackup/incremental") == nil)

        let checkpoint = try XMLReader(DiskJobXML.checkpoint(name: "bk-2", bitmaps: ["vda"], allTargets: ["vda", "vdb"]))
        #expect(checkpoint.string("/domaincheckpoint/disks/disk[@name='vda']/@checkpoint") == "bitmap")
        #expect(checkpoint.string("/domaincheckpoint/disks/disk[@name='vdb']/@checkpoint") == "no")

        let volume = try XMLReader(DiskJobXML.newVolume(name: "w-vda-bk-2.qcow2", capacity: 1 << 30, format: "qcow2", backing: "/p/a.qcow2"))
        #expect(volume.string("/volume/capacity") == "1073741824")
        #expect(volume.string("/volume/backingStore/path") == "/p/a.qcow2")
        #expect(volume.string("/volume/backingStore/format/@type") == "qcow2")
        #expect(volume.string("/volume/target/compat") == "1.1", "qcow2 v3: v2 images store no bitmaps")
        #expect(try XMLReader(DiskJobXML.newVolume(name: "r.raw", capacity: 1, format: "raw")).string("/volume/target/compat") == nil)
    }

    @Test func aMovedDiskPointsAtTheNewFileWithoutItsOldChain() throws {
        let xml = """
            <domain type='qemu'><name>web</name><devices>
              <disk type='volume' device='disk'>
                <driver name='qemu' type='raw' cache='none'/>
                <source pool='slow' volume='web.img'/>
                <backingStore type='file'><source file='/old/base'/></backingStore>
                <target dev='vda' bus='virtio'/>
                <serial>abc</serial>
              </disk>
              <disk type='file' device='cdrom'><source file='/iso/x.iso'/><target dev='sda' bus='sata'/></disk>
            </devices></domain>
            """
        let moved = try #require(try DiskJobXML.pointing(xml, target: "vda", at: "/fast/web.qcow2", isBlock: false, format: "qcow2"))
        let disks = try DiskJobXML.disks(moved)
        #expect(disks.count == 2)
        #expect(disks[0].type == "file" && disks[0].path == "/fast/web.qcow2" && disks[0].format == "qcow2")
        let reader = try XMLReader(moved)
        #expect(reader.elements("/domain/devices/disk[target/@dev='vda']/backingStore").isEmpty)
        #expect(reader.string("/domain/devices/disk[target/@dev='vda']/driver/@cache") == "none")
        #expect(reader.string("/domain/devices/disk[target/@dev='vda']/serial") == "abc")
        #expect(disks[1].path == "/iso/x.iso")
        #expect(try DiskJobXML.pointing(xml, target: "vdz", at: "/x", isBlock: false, format: "raw") == nil)
        let block = try #require(try DiskJobXML.pointing(xml, target: "vda", at: "/dev/vg/web", isBlock: true, format: "raw"))
        #expect(try XMLReader(block).string("/domain/devices/disk[target/@dev='vda']/source/@dev") == "/dev/vg/web")
    }

    /// A qcow2 header (version 3) naming `backing`, with the external data file bit when asked.
    static func qcow2(backing: String?, externalData: Bool = false) -> Data {
        var header = [UInt8](repeating: 0, count: 112)
        header[0..<4] = [0x51, 0x46, 0x49, 0xfb]
        header[7] = 3
        func put(_ value: UInt64, at offset: Int, width: Int) {
            for index in 0..<width { header[offset + index] = UInt8((value >> (8 * UInt64(width - 1 - index))) & 0xff) }
        }
        if let backing {
            put(112, at: 8, width: 8)
            put(UInt64(backing.utf8.count), at: 16, width: 4)
        }
        if externalData { put(1 << 2, at: 72, width: 8) }
        return Data(header) + Data((backing ?? "").utf8)
    }

    @Test func qcow2LinksReadTheBackingNameAndTheDataFileBit() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vht-qcow2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func file(_ name: String, _ data: Data) -> String {
            let path = folder.appendingPathComponent(name).path
            FileManager.default.createFile(atPath: path, contents: data)
            return path
        }
        let plain = file("plain", Self.qcow2(backing: nil))
        #expect(DiskImageHeader.qcow2Links(at: plain)?.backing == nil)
        #expect(DiskImageHeader.qcow2Links(at: plain)?.externalData == false)
        #expect(DiskImageHeader.qcow2Version(at: plain) == 3)
        let over = file("over", Self.qcow2(backing: "/var/lib/backups/full.qcow2"))
        #expect(DiskImageHeader.qcow2Links(at: over)?.backing == "/var/lib/backups/full.qcow2")
        #expect(DiskImageHeader.qcow2Reference(at: over) != nil)
        let data = file("data", Self.qcow2(backing: nil, externalData: true))
        #expect(DiskImageHeader.qcow2Links(at: data)?.externalData == true)
        // A name the file does not hold still counts as naming something.
        let cut = file("cut", Self.qcow2(backing: "/etc/shadow").prefix(114))
        #expect(DiskImageHeader.qcow2Links(at: cut)?.backing != nil)
        #expect(DiskImageHeader.qcow2Links(at: file("raw", Data(repeating: 0, count: 512))) == nil)
    }

    @Test func badRequestsAreRefusedBeforeLibvirt() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let badTarget = await DaemonHarness.error { _ = try await client.moveDisk(domain: "web-1", target: "hda;", pool: "default-pool") }
            #expect(badTarget?.code == .invalidArgument)
            let badFormat = await DaemonHarness.error {
                _ = try await client.moveDisk(domain: "web-1", target: "vda", pool: "default-pool", format: "vmdk")
            }
            #expect(badFormat?.code == .invalidArgument)
            let both = await DaemonHarness.error {
                _ = try await client.startBackup(domain: "web-1", pool: "default-pool", incremental: true, since: "bk-1")
            }
            #expect(both?.code == .invalidArgument)
            let badVolume = await DaemonHarness.error {
                _ = try await client.restoreBackup(domain: "web-1", disk: "vda", pool: "default-pool", volume: "../x")
            }
            #expect(badVolume?.code == .invalidArgument)
            let noBackup = await DaemonHarness.error { try await client.deleteBackup(domain: "web-1", id: "bk-none") }
            #expect(noBackup?.code == .notFound)
            let listed = try await client.listBackups(domain: "web-1")
            #expect(listed.backups.isEmpty)
        }
    }
}
