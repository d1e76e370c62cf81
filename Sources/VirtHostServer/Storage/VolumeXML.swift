import Foundation
import LibXML
import GRPCCore
import Libvirt
import VirtHostAPI

/// Volume XML for create and clone, and the storage facts read out of
/// libvirt's XML (formats, pool capabilities, partition names).
enum VolumeXML {
    /// What a create request becomes: the `<volume>` document, libvirt's
    /// flags, and how many bytes it will take from the pool at once.
    struct Plan: Sendable {
        var xml: String
        var preallocateMetadata: Bool
        var upFrontBytes: UInt64
    }

    /// Checks a create request (all but the pool lookup) and plans it.
    /// - Parameter poolType: the pool's libvirt type, read from its XML.
    static func plan(_ request: Virthost_V1_CreateVolumeRequest, poolType: String) throws -> Plan {
        let format = request.format.isEmpty ? "raw" : request.format
        let qcow2 = format == "qcow2"
        var allocation: UInt64
        var metadata = false
        switch request.allocation {
        case .thin:
            allocation = 0
        case .full:
            // libvirt's API offers "falloc" as qcow2's strongest mode (every
            // byte reserved on the host), and fallocate for raw files.
            allocation = request.capacity
            metadata = qcow2
        case .metadata:
            guard qcow2 else { throw Refusal.invalid("metadata preallocation is for qcow2 volumes; use thin or full for \(format)") }
            allocation = 0
            metadata = true
        case .falloc:
            guard qcow2 else { throw Refusal.invalid("falloc preallocation is for qcow2 volumes; use full for \(format)") }
            allocation = request.capacity
            metadata = true
        case .UNRECOGNIZED(let value):
            throw Refusal.invalid("allocation \(value) is not one of THIN, FULL, METADATA, FALLOC")
        }
        // Partitions and logical volumes take their whole size at once.
        let upFront: UInt64 = ["disk", "logical"].contains(poolType) ? request.capacity : allocation

        let volume = XMLElement(name: "volume")
        volume.addChild(XMLElement(name: "name", stringValue: request.name))
        volume.appendChild("capacity", ["unit": "bytes"], text: String(request.capacity))
        volume.appendChild("allocation", ["unit": "bytes"], text: String(allocation))
        // "raw" means "no image format": partitions, LVs and RBD images have
        // their own format words, and libvirt picks the right default.
        if format != "raw" || ["dir", "fs", "netfs", "gluster"].contains(poolType) {
            let target = XMLElement(name: "target")
            target.appendChild("format", ["type": format])
            volume.addChild(target)
        }
        return Plan(xml: volume.xmlString, preallocateMetadata: metadata, upFrontBytes: upFront)
    }

    /// A volume format word: letters, digits, '+', '-', '_'.
    static func validateFormat(_ format: String, field: String = "format") throws {
        guard format.utf8.count <= 32, format.unicodeScalars.allSatisfy({
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-_".unicodeScalars.contains($0))
        }) else { throw Refusal.invalid("\(field) '\(format.prefix(32))' is not a volume format (raw, qcow2, ...)") }
    }

    /// The `<volume>` document for a clone: the source's, renamed (what virsh
    /// vol-clone does); libvirt computes the new key and path.
    static func cloneXML(sourceXML: String, newName: String) throws -> String {
        let document = try XMLDocument(xmlString: sourceXML, options: [])
        guard let root = document.rootElement(), let name = root.elements(forName: "name").first else {
            throw Refusal(.internalError, "libvirt's volume XML has no <name>")
        }
        name.stringValue = newName
        for drop in ["key"] { root.elements(forName: drop).forEach { $0.detach() } }
        return root.xmlString
    }

    /// A volume's format as libvirt records it (raw, qcow2; "none" for partitions).
    static func format(_ xml: String) -> String {
        (try? XMLReader(xml).string("/volume/target/format/@type")) ?? ""
    }

    /// The qemu image format to name in a disk's `<driver type>` for a volume
    /// format: partitions, LVs and anything qemu does not know read as raw.
    static func diskFormat(forVolumeFormat format: String) -> String {
        ["raw", "qcow2", "qcow", "qed", "vmdk", "vdi", "vpc", "vhdx", "bochs", "cloop", "dmg", "parallels", "luks"]
            .contains(format) ? format : "raw"
    }

    /// The name libvirt's disk backend will give the next partition of a
    /// `disk` pool: the device's name, 'p' when it ends in a digit, and the
    /// lowest free partition number. libvirt 9.0 creates the partition first
    /// and refuses a differing name afterwards, leaving it behind, so the
    /// agent checks the name before asking.
    static func nextPartitionName(poolXML: String, existing: [String]) -> String? {
        guard let device = try? XMLReader(poolXML).string("/pool/source/device/@path"), !device.isEmpty else { return nil }
        let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: device)).map {
            $0.hasPrefix("/") ? $0 : URL(fileURLWithPath: device).deletingLastPathComponent().appendingPathComponent($0).path
        } ?? device
        var base = URL(fileURLWithPath: resolved).lastPathComponent
        if let last = base.last, last.isNumber { base += "p" }
        let taken = Set(existing.compactMap { name -> Int? in
            guard name.hasPrefix(base) else { return nil }
            return Int(name.dropFirst(base.count))
        })
        let number = (1...).first { !taken.contains($0) }!
        return "\(base)\(number)"
    }

    /// Pool types and formats out of libvirt's `<storagepoolCapabilities>`.
    static func capabilities(_ xml: String) throws -> [Virthost_V1_PoolTypeCapability] {
        try XMLReader(xml).elements("/storagepoolCapabilities/pool").map { pool in
            var capability = Virthost_V1_PoolTypeCapability()
            capability.type = pool.attr("type") ?? ""
            capability.supported = pool.attr("supported") == "yes"
            func values(_ options: String, _ name: String) -> [String] {
                (pool.child(options)?.elements(forName: "enum") ?? [])
                    .filter { $0.attr("name") == name }
                    .flatMap { $0.elements(forName: "value").compactMap(\.stringValue) }
            }
            capability.sourceFormats = values("poolOptions", "sourceFormatType")
            capability.volumeFormats = values("volOptions", "targetFormatType")
            return capability
        }
    }
}

extension Virthost_V1_Pool {
    /// The pool as the storage calls return it: info, sizes and the typed
    /// spec read back from the persistent definition (the live one for a
    /// transient pool). Runs on a libvirt thread.
    static func described(_ pool: StoragePool) throws -> Virthost_V1_Pool {
        var message = try Virthost_V1_Pool(pool)
        // The test driver has no inactive flag: fall back to the live XML.
        let inactive = message.persistent ? try? pool.xml(inactive: true) : nil
        let xml = try inactive ?? pool.xml()
        message.spec = try PoolSpecXML.spec(xml)
        return message
    }
}
