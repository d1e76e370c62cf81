import Foundation
import LibXML
import GRPCCore
import VirtHostAPI

/// The `<disk>` element of an attach, from a checked request; and the disk
/// elements of a machine's XML, found by target.
enum DiskXML {
    static let buses = ["virtio", "scsi", "sata"]
    static let cacheModes = ["none", "writethrough", "writeback", "directsync", "unsafe", "default"]

    /// Where the disk's bytes come from.
    enum Source: Sendable, Equatable {
        case file(String)
        case block(String)
        case volume(pool: String, volume: String)
    }

    /// An attach request, checked; the format may still come from the volume.
    struct Attach: Sendable {
        var source: Source
        var target: String
        var bus: String
        var format: String
        var readOnly: Bool
        var cache: String
        var serial: String
        /// Writes an empty `<backingStore/>`: QEMU opens no backing file
        /// whatever the image's header says (disks of confined callers).
        var noBackingStore = false
    }

    /// Checks every field of an attach request except the domain reference.
    /// - Parameter isBlockDevice: tells a host path's kind (a block device
    ///   becomes `<disk type='block'>`).
    static func attach(_ request: Virthost_V1_AttachDiskRequest, isBlockDevice: (String) -> Bool) throws -> Attach {
        let source: Source
        switch request.source {
        case .path(let path):
            try Validate.absolutePath(path, field: "disk path")
            source = isBlockDevice(path) ? .block(path) : .file(path)
        case .volume(let volume):
            try Validate.lookupName(volume.pool, field: "pool name")
            try Validate.volumeName(volume.volume)
            source = .volume(pool: volume.pool, volume: volume.volume)
        case nil:
            throw Refusal.invalid("give the disk's source: a host path or a pool volume")
        }
        let bus = request.bus.isEmpty ? "virtio" : request.bus
        try Validate.oneOf(bus, buses, field: "bus")
        try target(request.target, bus: bus)
        if !request.format.isEmpty { try VolumeXML.validateFormat(request.format) }
        if !request.cache.isEmpty { try Validate.oneOf(request.cache, cacheModes, field: "cache mode") }
        if !request.serial.isEmpty {
            guard request.serial.utf8.count <= 20, request.serial.unicodeScalars.allSatisfy({
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.+".unicodeScalars.contains($0))
            }) else {
                throw Refusal.invalid("serial '\(request.serial.prefix(32))' must be 1-20 of: letters, digits, '-', '_', '.', '+'")
            }
        }
        return Attach(
            source: source, target: request.target, bus: bus, format: request.format, readOnly: request.readOnly,
            cache: request.cache, serial: request.serial)
    }

    /// A guest target such as vdb or sdc that fits the bus: vd* for virtio,
    /// sd* for scsi and sata.
    static func target(_ target: String, bus: String? = nil) throws {
        let letters = target.dropFirst(2)
        let prefix = target.prefix(2)
        guard ["vd", "sd"].contains(prefix), (1...3).contains(letters.count),
              letters.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) }) else {
            throw Refusal.invalid("target '\(target.prefix(32))' is not a disk target like vdb (virtio) or sdb (scsi, sata)")
        }
        if let bus {
            let wanted = bus == "virtio" ? "vd" : "sd"
            guard prefix == wanted else {
                throw Refusal.invalid("target '\(target)' does not fit bus \(bus): use \(wanted)X, e.g. \(wanted)b")
            }
        }
    }

    /// The `<disk>` element libvirt attaches.
    static func xml(_ attach: Attach, format: String) -> String {
        element(attach, format: format).xmlString
    }

    /// The `<disk>` element, to attach or to place in a domain document.
    static func element(_ attach: Attach, format: String) -> XMLElement {
        let disk = XMLElement(name: "disk")
        let driver = XMLElement(name: "driver")
        driver.setAttribute("name", "qemu")
        driver.setAttribute("type", format)
        if !attach.cache.isEmpty { driver.setAttribute("cache", attach.cache) }
        let source = XMLElement(name: "source")
        switch attach.source {
        case .file(let path):
            disk.setAttribute("type", "file")
            source.setAttribute("file", path)
        case .block(let path):
            disk.setAttribute("type", "block")
            source.setAttribute("dev", path)
        case .volume(let pool, let volume):
            disk.setAttribute("type", "volume")
            source.setAttribute("pool", pool)
            source.setAttribute("volume", volume)
        }
        disk.setAttribute("device", "disk")
        disk.addChild(driver)
        disk.addChild(source)
        if attach.noBackingStore { disk.addChild(XMLElement(name: "backingStore")) }
        disk.appendChild("target", ["dev": attach.target, "bus": attach.bus])
        if attach.readOnly { disk.addChild(XMLElement(name: "readonly")) }
        if !attach.serial.isEmpty { disk.addChild(XMLElement(name: "serial", stringValue: attach.serial)) }
        return disk
    }

    /// The `<disk>` element with the target in a domain document, as XML.
    static func element(target: String, inDomainXML xml: String) throws -> String? {
        try XMLReader(xml).elements("/domain/devices/disk")
            .first { $0.childAttr("target", "dev") == target }?
            .xmlString
    }
}
