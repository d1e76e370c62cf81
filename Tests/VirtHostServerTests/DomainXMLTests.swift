import LibXML
import Testing
import VirtHostAPI
@testable import VirtHostServer

/// Device XML for machines built from typed requests (disks), read back,
/// and the checks that refuse bad input before libvirt sees it. No libvirt
/// needed.
@Suite struct DomainXMLTests {
    @Test func diskXMLForEachSourceKind() throws {
        func attach(_ configure: (inout Virthost_V1_AttachDiskRequest) -> Void) throws -> DiskXML.Attach {
            var request = Virthost_V1_AttachDiskRequest()
            request.target = "vdb"
            configure(&request)
            return try DiskXML.attach(request) { $0.hasPrefix("/dev/") }
        }
        let file = try XMLReader(DiskXML.xml(try attach {
            $0.path = "/srv/a.img"
            $0.cache = "none"
            $0.readOnly = true
            $0.serial = "vht-1"
        }, format: "raw"))
        #expect(file.string("/disk/@type") == "file")
        #expect(file.string("/disk/source/@file") == "/srv/a.img")
        #expect(file.string("/disk/driver/@cache") == "none")
        #expect(file.string("/disk/target/@bus") == "virtio")
        #expect(!file.elements("/disk/readonly").isEmpty)
        #expect(file.string("/disk/serial") == "vht-1")
        let block = try XMLReader(DiskXML.xml(try attach { $0.path = "/dev/loop3" }, format: "raw"))
        #expect(block.string("/disk/@type") == "block")
        #expect(block.string("/disk/source/@dev") == "/dev/loop3")
        let volume = try XMLReader(DiskXML.xml(try attach {
            $0.volume = .with { $0.pool = "images"; $0.volume = "a.qcow2" }
            $0.target = "sdc"
            $0.bus = "scsi"
        }, format: "qcow2"))
        #expect(volume.string("/disk/@type") == "volume")
        #expect(volume.string("/disk/source/@pool") == "images")
        #expect(volume.string("/disk/driver/@type") == "qcow2")
        #expect(volume.string("/disk/target/@dev") == "sdc")

        for bad: (inout Virthost_V1_AttachDiskRequest) -> Void in [
            { _ in },  // no source
            { $0.path = "relative.img" },
            { $0.path = "/srv/a.img"; $0.target = "vdb1" },
            { $0.path = "/srv/a.img"; $0.target = "sdb" },  // virtio wants vdX
            { $0.path = "/srv/a.img"; $0.bus = "ide" },
            { $0.path = "/srv/a.img"; $0.cache = "fast" },
            { $0.path = "/srv/a.img"; $0.serial = "has space" },
            { $0.volume = .with { $0.pool = "p"; $0.volume = "../x" } },
        ] {
            #expect(throws: Refusal.self) { try attach(bad) }
        }
    }
}
