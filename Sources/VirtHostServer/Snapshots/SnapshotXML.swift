import Foundation
import LibXML
import SwiftProtobuf
import VirtHostAPI

/// Builds `<domainsnapshot>` documents and reads them back.
enum SnapshotXML {
    /// The document for a new snapshot: its name and description; libvirt
    /// picks the disks' snapshot modes (and the overlay file names of a
    /// disk-only snapshot, next to each disk's file).
    static func create(name: String, description: String) -> String {
        let root = XMLElement(name: "domainsnapshot")
        root.addChild(XMLElement(name: "name", stringValue: name))
        if !description.isEmpty {
            root.addChild(XMLElement(name: "description", stringValue: description))
        }
        return root.xmlString
    }

    /// What a snapshot's XML says: state, time, description, parent, disks.
    static func read(_ xml: String, into snapshot: inout Virthost_V1_Snapshot) throws {
        let reader = try XMLReader(xml)
        snapshot.description_p = reader.string("/domainsnapshot/description") ?? ""
        snapshot.state = reader.string("/domainsnapshot/state") ?? ""
        snapshot.diskOnly = snapshot.state == "disk-snapshot"
        if let created = reader.string("/domainsnapshot/creationTime").flatMap(Int64.init) {
            snapshot.createdAt = Google_Protobuf_Timestamp(seconds: created, nanos: 0)
        }
        if snapshot.parent.isEmpty {
            snapshot.parent = reader.string("/domainsnapshot/parent/name") ?? ""
        }
        snapshot.disks = reader.elements("/domainsnapshot/disks/disk").map { disk in
            var entry = Virthost_V1_SnapshotDisk()
            entry.name = disk.attr("name") ?? ""
            entry.snapshot = disk.attr("snapshot") ?? ""
            entry.file = disk.childAttr("source", "file") ?? disk.childAttr("source", "dev") ?? ""
            return entry
        }
    }
}
