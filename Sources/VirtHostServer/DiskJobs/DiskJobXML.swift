import Foundation
import LibXML
import VirtHostAPI

/// The XML of disk moves and backups: block copy destinations, backup and
/// checkpoint documents, new volumes, and a machine's disk pointed at a new
/// file.
enum DiskJobXML {
    /// A disk of a machine, as a move or backup needs it.
    struct MachineDisk: Sendable, Equatable {
        var target: String
        /// "disk", "cdrom" or "floppy".
        var device: String
        /// "file", "block", "volume", "network".
        var type: String
        /// The host path QEMU opens (for a volume disk, libvirt's live XML
        /// names it too), empty when unknown.
        var path: String
        var pool: String
        var volume: String
        var format: String
        var readOnly: Bool
        /// The copy this disk mirrors into, when a block copy runs.
        var mirrorPath: String
    }

    /// The disks of a `<domain>` document.
    static func disks(_ domainXML: String) throws -> [MachineDisk] {
        try XMLReader(domainXML).elements("/domain/devices/disk").map { element in
            let source = element.child("source")
            let type = element.attr("type") ?? "file"
            let mirror = element.child("mirror")
            return MachineDisk(
                target: element.childAttr("target", "dev") ?? "",
                device: element.attr("device") ?? "disk",
                type: type,
                path: source?.attr("file") ?? source?.attr("dev") ?? "",
                pool: type == "volume" ? source?.attr("pool") ?? "" : "",
                volume: type == "volume" ? source?.attr("volume") ?? "" : "",
                format: element.childAttr("driver", "type") ?? "raw",
                readOnly: element.child("readonly") != nil,
                mirrorPath: mirror?.childAttr("source", "file") ?? mirror?.childAttr("source", "dev") ?? mirror?.attr("file") ?? "")
        }
    }

    /// The destination of a block copy: a file or block device with its format.
    static func copyDestination(path: String, isBlock: Bool, format: String) -> String {
        let disk = XMLElement(name: "disk")
        disk.setAttribute("type", isBlock ? "block" : "file")
        disk.appendChild("source", [isBlock ? "dev" : "file": path])
        disk.appendChild("driver", ["type": format])
        return disk.xmlString
    }

    /// A new volume: qcow2 (version 3) or raw, of a capacity, optionally over a backing
    /// volume (an incremental backup over its parent).
    static func newVolume(name: String, capacity: UInt64, format: String, backing: String? = nil) -> String {
        let volume = XMLElement(name: "volume")
        volume.appendChild("name", text: name)
        volume.appendChild("capacity", ["unit": "bytes"], text: String(capacity))
        volume.appendChild("allocation", ["unit": "bytes"], text: "0")
        let target = volume.appendChild("target")
        target.appendChild("format", ["type": format])
        // qcow2 v3: libvirt 9 makes v2 (compat 0.10) by default, which
        // cannot store the dirty bitmaps of checkpoints.
        if format == "qcow2" { target.appendChild("compat", text: "1.1") }
        if let backing {
            let store = volume.appendChild("backingStore")
            store.appendChild("path", text: backing)
            store.appendChild("format", ["type": "qcow2"])
        }
        return volume.xmlString
    }

    /// A push-mode backup of `targets` into the given files (qcow2),
    /// incremental since `checkpoint` when set.
    static func backup(into files: [(target: String, path: String)], allTargets: [String], since checkpoint: String?) -> String {
        let backup = XMLElement(name: "domainbackup")
        backup.setAttribute("mode", "push")
        if let checkpoint { backup.appendChild("incremental", text: checkpoint) }
        let disks = backup.appendChild("disks")
        for target in allTargets {
            if let file = files.first(where: { $0.target == target }) {
                let disk = disks.appendChild("disk", ["name": target, "backup": "yes", "type": "file"])
                disk.appendChild("target", ["file": file.path])
                disk.appendChild("driver", ["type": "qcow2"])
            } else {
                disks.appendChild("disk", ["name": target, "backup": "no"])
            }
        }
        return backup.xmlString
    }

    /// A checkpoint with a bitmap on each of `bitmaps` and none on the other disks.
    static func checkpoint(name: String, bitmaps: [String], allTargets: [String]) -> String {
        let checkpoint = XMLElement(name: "domaincheckpoint")
        checkpoint.appendChild("name", text: name)
        let disks = checkpoint.appendChild("disks")
        for target in allTargets {
            disks.appendChild("disk", ["name": target, "checkpoint": bitmaps.contains(target) ? "bitmap" : "no"])
        }
        return checkpoint.xmlString
    }

    /// A `<domaincheckpoint>` as the API shows it.
    static func checkpoint(_ xml: String) throws -> Virthost_V1_Checkpoint {
        let reader = try XMLReader(xml)
        var checkpoint = Virthost_V1_Checkpoint()
        checkpoint.name = reader.string("/domaincheckpoint/name") ?? ""
        checkpoint.parent = reader.string("/domaincheckpoint/parent/name") ?? ""
        let created = Double(reader.string("/domaincheckpoint/creationTime") ?? "") ?? 0
        checkpoint.createdAt = .init(timeIntervalSince1970: created)
        checkpoint.disks = reader.elements("/domaincheckpoint/disks/disk")
            .filter { $0.attr("checkpoint") == "bitmap" }
            .compactMap { $0.attr("name") }
        return checkpoint
    }

    /// The machine's definition with the disk `target` reading `path`
    /// (a file, or a block device) in `format`; nil when it has no such disk.
    static func pointing(_ domainXML: String, target: String, at path: String, isBlock: Bool, format: String) throws -> String? {
        let reader = try XMLReader(domainXML)
        guard let disk = reader.elements("/domain/devices/disk").first(where: { $0.childAttr("target", "dev") == target })
        else { return nil }
        disk.setAttribute("type", isBlock ? "block" : "file")
        for name in ["source", "backingStore", "mirror"] {
            for child in disk.elements(forName: name) { child.detach() }
        }
        let source = XMLElement(name: "source")
        source.setAttribute(isBlock ? "dev" : "file", path)
        // <source> comes before <target> in libvirt's order; it accepts any.
        disk.addChild(source)
        if let driver = disk.child("driver") {
            driver.setAttribute("type", format)
        } else {
            disk.appendChild("driver", ["name": "qemu", "type": format])
        }
        return reader.document.xmlString
    }
}
