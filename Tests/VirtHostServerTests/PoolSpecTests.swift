import Foundation
import LibXML
import GRPCCore
import Testing
import VirtHostAPI
@testable import VirtHostServer

/// Pool and volume XML built from typed specs, read back, and the checks
/// that refuse bad input before libvirt sees it. No libvirt needed.
@Suite struct PoolSpecTests {
    static func spec(_ name: String, target: String = "", _ kind: (inout Virthost_V1_PoolSpec) -> Void) -> Virthost_V1_PoolSpec {
        var spec = Virthost_V1_PoolSpec()
        spec.name = name
        spec.targetPath = target
        kind(&spec)
        return spec
    }

    /// One spec of every kind, as a user fills it in.
    static let everyKind: [Virthost_V1_PoolSpec] = [
        spec("d", target: "/srv/images") {
            $0.dir = .init()
            $0.ownerUid = 107
            $0.ownerGid = 108
            $0.mode = 0o750
        },
        spec("f", target: "/srv/fs") { $0.fs = .with { $0.device = "/dev/loop3"; $0.format = "ext4" } },
        spec("n", target: "/srv/nfs") { $0.netfs = .with { $0.host = "127.0.0.1"; $0.exportPath = "/exports/vm"; $0.format = "nfs" } },
        spec("k", target: "/dev") { $0.disk = .with { $0.device = "/dev/loop4"; $0.format = "gpt" } },
        spec("l", target: "/dev/vmvg") { $0.logical = .with { $0.volumeGroup = "vmvg"; $0.devices = ["/dev/loop5", "/dev/loop6"] } },
        spec("i", target: "/dev/disk/by-path") {
            $0.iscsi = .with {
                $0.host = "127.0.0.1"
                $0.port = 3260
                $0.targetIqn = "iqn.2024-01.org.example:storage"
                $0.initiatorIqn = "iqn.2024-01.org.example:client"
            }
        },
        spec("s", target: "/dev/disk/by-path") { $0.scsi = .with { $0.adapter = "host0" } },
        spec("v", target: "/dev/disk/by-path") {
            $0.scsi = .with { $0.wwnn = "20000000c9831b4b"; $0.wwpn = "10000000c9831b4b"; $0.parent = "host5" }
        },
        spec("g") { $0.gluster = .with { $0.host = "127.0.0.1"; $0.volume = "gv0"; $0.folder = "/images" } },
        spec("r") {
            $0.rbd = .with {
                $0.monitors = ["127.0.0.1:6789", "127.0.0.2"]
                $0.pool = "vms"
                $0.authUser = "libvirt"
                $0.secretUuid = "2ec115d7-3a88-4ad4-9e8f-2c8a2b8f4e11"
            }
        },
    ]

    @Test(arguments: everyKind)
    func everyKindRoundTripsThroughItsXML(_ spec: Virthost_V1_PoolSpec) throws {
        let xml = try PoolSpecXML.xml(spec)
        #expect(try PoolSpecXML.spec(xml) == spec, "\(xml)")
    }

    @Test func xmlHasTheShapesLibvirtDocuments() throws {
        func reader(_ index: Int) throws -> XMLReader { try XMLReader(try PoolSpecXML.xml(Self.everyKind[index])) }
        let dir = try reader(0)
        #expect(dir.string("/pool/@type") == "dir")
        #expect(dir.string("/pool/target/permissions/mode") == "0750")
        #expect(dir.string("/pool/target/permissions/owner") == "107")
        let iscsi = try reader(5)
        #expect(iscsi.string("/pool/source/host/@port") == "3260")
        #expect(iscsi.string("/pool/source/device/@path") == "iqn.2024-01.org.example:storage")
        #expect(iscsi.string("/pool/source/initiator/iqn/@name") == "iqn.2024-01.org.example:client")
        let npiv = try reader(7)
        #expect(npiv.string("/pool/source/adapter/@type") == "fc_host")
        #expect(npiv.string("/pool/source/adapter/@parent") == "host5")
        let gluster = try reader(8)
        #expect(gluster.string("/pool/source/name") == "gv0")
        #expect(gluster.elements("/pool/target").isEmpty)
        let rbd = try reader(9)
        #expect(rbd.elements("/pool/source/host").count == 2)
        #expect(rbd.string("/pool/source/host[1]/@port") == "6789")
        #expect(rbd.string("/pool/source/auth/@type") == "ceph")
        #expect(rbd.string("/pool/source/auth/secret/@uuid") == "2ec115d7-3a88-4ad4-9e8f-2c8a2b8f4e11")
    }

    @Test func defaultsFillTargetsAndFormats() throws {
        let disk = try XMLReader(try PoolSpecXML.xml(Self.spec("k") { $0.disk = .with { $0.device = "/dev/loop4" } }))
        #expect(disk.string("/pool/target/path") == "/dev")
        #expect(disk.string("/pool/source/format/@type") == "gpt")
        let lvm = try XMLReader(try PoolSpecXML.xml(Self.spec("l") { $0.logical = .with { $0.volumeGroup = "vg0" } }))
        #expect(lvm.string("/pool/target/path") == "/dev/vg0")
        let nfs = try XMLReader(try PoolSpecXML.xml(Self.spec("n", target: "/mnt") {
            $0.netfs = .with { $0.host = "127.0.0.1"; $0.exportPath = "/e" }
        }))
        #expect(nfs.string("/pool/source/format/@type") == "nfs")
    }

    @Test func xmlEscapesWhatItCarries() throws {
        // A target path may hold characters XML must escape; it survives intact.
        let spec = Self.spec("d", target: "/srv/a&b <c>'\"") { $0.dir = .init() }
        let xml = try PoolSpecXML.xml(spec)
        #expect(!xml.contains("a&b <c>"))
        #expect(try PoolSpecXML.spec(xml).targetPath == "/srv/a&b <c>'\"")
    }

    static let badSpecs: [(String, Virthost_V1_PoolSpec)] = [
        ("no kind", spec("x", target: "/srv") { _ in }),
        ("bad name", spec("a/b", target: "/srv") { $0.dir = .init() }),
        ("dir without target", spec("x") { $0.dir = .init() }),
        ("relative target", spec("x", target: "srv") { $0.dir = .init() }),
        ("dotdot target", spec("x", target: "/srv/../etc") { $0.dir = .init() }),
        ("fs without device", spec("x", target: "/srv") { $0.fs = .init() }),
        ("fs bad format", spec("x", target: "/srv") { $0.fs = .with { $0.device = "/dev/loop0"; $0.format = "ntfs3" } }),
        ("netfs host name with space", spec("x", target: "/srv") {
            $0.netfs = .with { $0.host = "a b"; $0.exportPath = "/e" }
        }),
        ("netfs bad format", spec("x", target: "/srv") {
            $0.netfs = .with { $0.host = "127.0.0.1"; $0.exportPath = "/e"; $0.format = "smb" }
        }),
        ("disk bad format", spec("x") { $0.disk = .with { $0.device = "/dev/loop0"; $0.format = "ntfs" } }),
        ("logical bad vg", spec("x") { $0.logical = .with { $0.volumeGroup = "vg/0" } }),
        ("iscsi bad iqn", spec("x") { $0.iscsi = .with { $0.host = "127.0.0.1"; $0.targetIqn = "storage" } }),
        ("iscsi bad port", spec("x") {
            $0.iscsi = .with { $0.host = "127.0.0.1"; $0.port = 70000; $0.targetIqn = "iqn.2024-01.org.example:s" }
        }),
        ("scsi nothing", spec("x") { $0.scsi = .init() }),
        ("scsi both", spec("x") { $0.scsi = .with { $0.adapter = "host0"; $0.wwnn = "20000000c9831b4b"; $0.wwpn = "10000000c9831b4b" } }),
        ("scsi short wwn", spec("x") { $0.scsi = .with { $0.wwnn = "2000"; $0.wwpn = "10000000c9831b4b" } }),
        ("gluster with target", spec("x", target: "/srv") { $0.gluster = .with { $0.host = "127.0.0.1"; $0.volume = "gv0" } }),
        ("rbd no monitors", spec("x") { $0.rbd = .with { $0.pool = "vms" } }),
        ("rbd user without secret", spec("x") {
            $0.rbd = .with { $0.monitors = ["127.0.0.1"]; $0.pool = "vms"; $0.authUser = "u" }
        }),
        ("rbd bad port", spec("x") { $0.rbd = .with { $0.monitors = ["127.0.0.1:99999"]; $0.pool = "vms" } }),
        ("mode too big", spec("x", target: "/srv") {
            $0.dir = .init()
            $0.mode = 0o17777
        }),
        ("permissions without target", spec("x") {
            $0.rbd = .with { $0.monitors = ["127.0.0.1"]; $0.pool = "vms" }
            $0.ownerUid = 0
        }),
    ]

    @Test(arguments: badSpecs)
    func badSpecsAreRefused(_ label: String, _ spec: Virthost_V1_PoolSpec) {
        do {
            let xml = try PoolSpecXML.xml(spec)
            Issue.record("\(label): accepted as \(xml)")
        } catch let convertible as any RPCErrorConvertible {
            let error = RPCError(convertible)
            #expect(error.code == .invalidArgument, "\(label)")
            #expect(!error.message.isEmpty)
        } catch {
            Issue.record("\(label): \(error)")
        }
    }

    @Test func volumeNamesAreCheckedLikeFileNames() {
        for bad in ["", "a/b", "..", ".", "x\0y", "/etc/passwd", String(repeating: "a", count: 256), "tab\there"] {
            #expect(throws: Refusal.self, "\(bad.debugDescription)") { try Validate.volumeName(bad) }
        }
        for good in ["disk.qcow2", "loop0p1", "a b", "ünïcode.raw", String(repeating: "a", count: 255)] {
            #expect(throws: Never.self) { try Validate.volumeName(good) }
        }
    }

    @Test func sizesMustBePositiveAndAddressable() {
        #expect(throws: Refusal.self) { try Validate.size(0, field: "capacity") }
        #expect(throws: Refusal.self) { try Validate.size(UInt64(Int64.max) + 1, field: "capacity") }
        #expect(throws: Refusal.self) { try Validate.size(.max, field: "capacity") }
        #expect(throws: Never.self) { try Validate.size(1, field: "capacity") }
    }

    @Test func volumePlansFollowTheAllocationMode() throws {
        func plan(_ format: String, _ allocation: Virthost_V1_Allocation, pool: String = "dir") throws -> VolumeXML.Plan {
            try VolumeXML.plan(.with {
                $0.name = "v"
                $0.capacity = 1 << 30
                $0.format = format
                $0.allocation = allocation
            }, poolType: pool)
        }
        let thin = try plan("", .thin)
        #expect(try XMLReader(thin.xml).string("/volume/allocation") == "0")
        #expect(try XMLReader(thin.xml).string("/volume/target/format/@type") == "raw")
        #expect(thin.upFrontBytes == 0 && !thin.preallocateMetadata)
        let full = try plan("raw", .full)
        #expect(try XMLReader(full.xml).string("/volume/allocation") == String(1 << 30))
        #expect(full.upFrontBytes == 1 << 30 && !full.preallocateMetadata)
        let metadata = try plan("qcow2", .metadata)
        #expect(metadata.preallocateMetadata && metadata.upFrontBytes == 0)
        let falloc = try plan("qcow2", .falloc)
        #expect(falloc.preallocateMetadata && falloc.upFrontBytes == 1 << 30)
        #expect(throws: Refusal.self) { try plan("raw", .metadata) }
        #expect(throws: Refusal.self) { try plan("raw", .falloc) }
        // A partition takes its whole size; "raw" leaves the format to the disk pool.
        let partition = try plan("raw", .thin, pool: "disk")
        #expect(partition.upFrontBytes == 1 << 30)
        #expect(try XMLReader(partition.xml).elements("/volume/target").isEmpty)
    }

    @Test func cloneXMLRenamesAndDropsTheKey() throws {
        let source = "<volume type='file'><name>a.qcow2</name><key>/p/a.qcow2</key><capacity unit='bytes'>5</capacity></volume>"
        let clone = try XMLReader(try VolumeXML.cloneXML(sourceXML: source, newName: "b.qcow2"))
        #expect(clone.string("/volume/name") == "b.qcow2")
        #expect(clone.elements("/volume/key").isEmpty)
        #expect(clone.string("/volume/capacity") == "5")
    }

    @Test func nextPartitionNameFollowsLibvirt() {
        let loop = "<pool type='disk'><source><device path='/dev/loop7'/></source></pool>"
        #expect(VolumeXML.nextPartitionName(poolXML: loop, existing: []) == "loop7p1")
        #expect(VolumeXML.nextPartitionName(poolXML: loop, existing: ["loop7p1", "loop7p3"]) == "loop7p2")
        let sdb = "<pool type='disk'><source><device path='/dev/sdb'/></source></pool>"
        #expect(VolumeXML.nextPartitionName(poolXML: sdb, existing: ["sdb1"]) == "sdb2")
    }

    @Test func capabilitiesAreReadFromLibvirtsXML() throws {
        let xml = """
            <storagepoolCapabilities>
              <pool type='dir' supported='yes'><volOptions><defaultFormat type='raw'/>
                <enum name='targetFormatType'><value>raw</value><value>qcow2</value></enum></volOptions></pool>
              <pool type='fs' supported='yes'><poolOptions><defaultFormat type='auto'/>
                <enum name='sourceFormatType'><value>ext4</value><value>xfs</value></enum></poolOptions></pool>
              <pool type='zfs' supported='no'/>
            </storagepoolCapabilities>
            """
        let types = try VolumeXML.capabilities(xml)
        #expect(types.map(\.type) == ["dir", "fs", "zfs"])
        #expect(types.map(\.supported) == [true, true, false])
        #expect(types[0].volumeFormats == ["raw", "qcow2"])
        #expect(types[1].sourceFormats == ["ext4", "xfs"])
    }
}
