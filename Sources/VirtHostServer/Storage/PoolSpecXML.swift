import Foundation
import LibXML
import GRPCCore
import VirtHostAPI

/// Turns a typed ``Virthost_V1_PoolSpec`` into libvirt `<pool>` XML (after
/// checking every field), and reads a `<pool>` document back into a spec.
enum PoolSpecXML {
    static let fsFormats = ["auto", "ext2", "ext3", "ext4", "ufs", "iso9660", "udf", "gfs", "gfs2", "vfat", "hfs+", "xfs",
                            "ocfs2", "vmfs"]
    static let netfsFormats = ["nfs", "cifs", "glusterfs"]
    static let diskFormats = ["dos", "gpt", "dvh", "mac", "bsd", "pc98", "sun", "lvm2"]

    /// The libvirt pool type of a spec's kind, or nil when no kind is set.
    static func type(of spec: Virthost_V1_PoolSpec) -> String? {
        switch spec.kind {
        case .dir: "dir"
        case .fs: "fs"
        case .netfs: "netfs"
        case .disk: "disk"
        case .logical: "logical"
        case .iscsi: "iscsi"
        case .scsi: "scsi"
        case .gluster: "gluster"
        case .rbd: "rbd"
        case nil: nil
        }
    }

    /// Checks the spec and builds the `<pool>` document libvirt defines.
    static func xml(_ spec: Virthost_V1_PoolSpec) throws -> String {
        try Validate.objectName(spec.name, field: "pool name")
        guard let type = type(of: spec) else {
            throw Refusal.invalid("pool spec has no kind: set one of dir, fs, netfs, disk, logical, iscsi, scsi, gluster, rbd")
        }
        if !spec.uuid.isEmpty { try Validate.uuid(spec.uuid, field: "pool uuid") }

        let pool = XMLElement(name: "pool")
        pool.setAttribute("type", type)
        pool.addChild(XMLElement(name: "name", stringValue: spec.name))
        if !spec.uuid.isEmpty { pool.addChild(XMLElement(name: "uuid", stringValue: spec.uuid.lowercased())) }
        let source = XMLElement(name: "source")

        // Where volumes appear: required for mounted kinds, defaulted for
        // device kinds, absent for network-only kinds.
        var target = spec.targetPath
        func requireTarget() throws {
            guard !target.isEmpty else { throw Refusal.invalid("a \(type) pool needs target_path (where its volumes appear)") }
        }

        switch spec.kind {
        case .dir:
            try requireTarget()
        case .fs(let fs):
            try Validate.absolutePath(fs.device, field: "fs device")
            source.appendChild("device", ["path": fs.device])
            if !fs.format.isEmpty {
                try Validate.oneOf(fs.format, fsFormats, field: "fs format")
                source.appendChild("format", ["type": fs.format])
            }
            try requireTarget()
        case .netfs(let netfs):
            try Validate.host(netfs.host, field: "netfs host")
            let format = netfs.format.isEmpty ? "nfs" : netfs.format
            try Validate.oneOf(format, netfsFormats, field: "netfs format")
            if format == "cifs" {
                // CIFS names a share, with or without a leading '/'.
                try Validate.token(netfs.exportPath.hasPrefix("/") ? String(netfs.exportPath.dropFirst()) : netfs.exportPath,
                                   field: "netfs share")
            } else {
                try Validate.absolutePath(netfs.exportPath, field: "netfs export_path")
            }
            source.appendChild("host", ["name": netfs.host])
            source.appendChild("dir", ["path": netfs.exportPath])
            source.appendChild("format", ["type": format])
            try requireTarget()
        case .disk(let disk):
            try Validate.absolutePath(disk.device, field: "disk device")
            let format = disk.format.isEmpty ? "gpt" : disk.format
            try Validate.oneOf(format, diskFormats, field: "disk format")
            source.appendChild("device", ["path": disk.device])
            source.appendChild("format", ["type": format])
            if target.isEmpty { target = "/dev" }
        case .logical(let logical):
            try Validate.token(logical.volumeGroup, field: "volume group", max: 127)
            source.addChild(XMLElement(name: "name", stringValue: logical.volumeGroup))
            for device in logical.devices {
                try Validate.absolutePath(device, field: "logical device")
                source.appendChild("device", ["path": device])
            }
            source.appendChild("format", ["type": "lvm2"])
            if target.isEmpty { target = "/dev/\(logical.volumeGroup)" }
        case .iscsi(let iscsi):
            try Validate.host(iscsi.host, field: "iscsi host")
            guard iscsi.port <= 65535 else { throw Refusal.invalid("iscsi port \(iscsi.port) is not a TCP port") }
            try Validate.iscsiName(iscsi.targetIqn, field: "iscsi target_iqn")
            var hostAttributes = ["name": iscsi.host]
            if iscsi.port != 0 { hostAttributes["port"] = String(iscsi.port) }
            source.appendChild("host", hostAttributes)
            source.appendChild("device", ["path": iscsi.targetIqn])
            if !iscsi.initiatorIqn.isEmpty {
                try Validate.iscsiName(iscsi.initiatorIqn, field: "iscsi initiator_iqn")
                let initiator = XMLElement(name: "initiator")
                initiator.appendChild("iqn", ["name": iscsi.initiatorIqn])
                source.addChild(initiator)
            }
            if target.isEmpty { target = "/dev/disk/by-path" }
        case .scsi(let scsi):
            let npiv = !scsi.wwnn.isEmpty || !scsi.wwpn.isEmpty
            if npiv {
                guard scsi.adapter.isEmpty else {
                    throw Refusal.invalid("scsi: give either adapter (a SCSI host) or wwnn and wwpn (an NPIV vHBA), not both")
                }
                try Validate.wwn(scsi.wwnn, field: "scsi wwnn")
                try Validate.wwn(scsi.wwpn, field: "scsi wwpn")
                var attributes = ["type": "fc_host", "wwnn": scsi.wwnn.lowercased(), "wwpn": scsi.wwpn.lowercased()]
                if !scsi.parent.isEmpty {
                    try Validate.token(scsi.parent, field: "scsi parent", max: 64)
                    attributes["parent"] = scsi.parent
                }
                source.appendChild("adapter", attributes)
            } else {
                guard !scsi.adapter.isEmpty else {
                    throw Refusal.invalid("scsi: give adapter (e.g. host0) or wwnn and wwpn for an NPIV vHBA")
                }
                guard scsi.parent.isEmpty else { throw Refusal.invalid("scsi parent is only for an NPIV vHBA (wwnn/wwpn)") }
                try Validate.token(scsi.adapter, field: "scsi adapter", max: 64)
                source.appendChild("adapter", ["type": "scsi_host", "name": scsi.adapter])
            }
            if target.isEmpty { target = "/dev/disk/by-path" }
        case .gluster(let gluster):
            try Validate.host(gluster.host, field: "gluster host")
            try Validate.token(gluster.volume, field: "gluster volume")
            let folder = gluster.folder.isEmpty ? "/" : gluster.folder
            if folder != "/" { try Validate.absolutePath(folder, field: "gluster folder") }
            source.appendChild("host", ["name": gluster.host])
            source.appendChild("dir", ["path": folder])
            source.addChild(XMLElement(name: "name", stringValue: gluster.volume))
            guard target.isEmpty else { throw Refusal.invalid("a gluster pool has no target_path (its volumes are network URLs)") }
        case .rbd(let rbd):
            guard !rbd.monitors.isEmpty else { throw Refusal.invalid("an rbd pool needs at least one monitor") }
            try Validate.token(rbd.pool, field: "rbd pool")
            source.addChild(XMLElement(name: "name", stringValue: rbd.pool))
            for monitor in rbd.monitors {
                let (host, port) = try monitorAddress(monitor)
                var attributes = ["name": host]
                if let port { attributes["port"] = String(port) }
                source.appendChild("host", attributes)
            }
            switch (rbd.authUser.isEmpty, rbd.secretUuid.isEmpty) {
            case (true, true): break
            case (false, false):
                try Validate.token(rbd.authUser, field: "rbd auth_user")
                try Validate.uuid(rbd.secretUuid, field: "rbd secret_uuid")
                let auth = XMLElement(name: "auth")
                auth.setAttribute("type", "ceph")
                auth.setAttribute("username", rbd.authUser)
                auth.appendChild("secret", ["uuid": rbd.secretUuid.lowercased()])
                source.addChild(auth)
            default:
                throw Refusal.invalid("rbd auth_user and secret_uuid go together: give both or neither")
            }
            guard target.isEmpty else { throw Refusal.invalid("an rbd pool has no target_path (its volumes are network URLs)") }
        case nil:
            break
        }
        if (source.children ?? []).count > 0 { pool.addChild(source) }

        let hasPermissions = spec.hasOwnerUid || spec.hasOwnerGid || spec.hasMode
        if hasPermissions && target.isEmpty {
            throw Refusal.invalid("owner, group and mode apply to a target folder; a \(type) pool has none")
        }
        if !target.isEmpty {
            try Validate.absolutePath(target, field: "target_path")
            let targetElement = XMLElement(name: "target")
            targetElement.addChild(XMLElement(name: "path", stringValue: target))
            if hasPermissions {
                let permissions = XMLElement(name: "permissions")
                if spec.hasMode {
                    guard spec.mode <= 0o7777 else { throw Refusal.invalid("mode \(String(spec.mode, radix: 8)) is not a file mode (at most 07777)") }
                    permissions.addChild(XMLElement(name: "mode", stringValue: "0" + String(spec.mode, radix: 8)))
                }
                if spec.hasOwnerUid { permissions.addChild(XMLElement(name: "owner", stringValue: String(spec.ownerUid))) }
                if spec.hasOwnerGid { permissions.addChild(XMLElement(name: "group", stringValue: String(spec.ownerGid))) }
                targetElement.addChild(permissions)
            }
            pool.addChild(targetElement)
        }
        return pool.xmlString
    }

    /// "host", "host:port", "[v6]:port" or a bare IPv6 address.
    static func monitorAddress(_ monitor: String) throws -> (String, UInt16?) {
        var host = monitor
        var port: UInt16?
        if monitor.hasPrefix("["), let close = monitor.firstIndex(of: "]") {
            host = String(monitor[monitor.index(after: monitor.startIndex)..<close])
            let rest = monitor[monitor.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let value = UInt16(rest.dropFirst()), value > 0 else {
                    throw Refusal.invalid("rbd monitor '\(monitor.prefix(64))' has a bad port")
                }
                port = value
            } else if !rest.isEmpty {
                throw Refusal.invalid("rbd monitor '\(monitor.prefix(64))' is not host[:port]")
            }
        } else if monitor.filter({ $0 == ":" }).count == 1, let colon = monitor.firstIndex(of: ":") {
            host = String(monitor[..<colon])
            guard let value = UInt16(monitor[monitor.index(after: colon)...]), value > 0 else {
                throw Refusal.invalid("rbd monitor '\(monitor.prefix(64))' has a bad port")
            }
            port = value
        }
        try Validate.host(host, field: "rbd monitor")
        return (host, port)
    }

    /// Reads a `<pool>` document back into a spec: the inverse of ``xml(_:)``
    /// for every kind it models.
    static func spec(_ xml: String) throws -> Virthost_V1_PoolSpec {
        let reader = try XMLReader(xml)
        var spec = Virthost_V1_PoolSpec()
        spec.name = reader.string("/pool/name") ?? ""
        spec.uuid = reader.string("/pool/uuid") ?? ""
        spec.targetPath = reader.string("/pool/target/path") ?? ""
        if let mode = reader.string("/pool/target/permissions/mode"), let value = UInt32(mode, radix: 8) { spec.mode = value }
        if let owner = reader.string("/pool/target/permissions/owner"), let value = Int64(owner), value >= 0 {
            spec.ownerUid = UInt32(truncatingIfNeeded: value)
        }
        if let group = reader.string("/pool/target/permissions/group"), let value = Int64(group), value >= 0 {
            spec.ownerGid = UInt32(truncatingIfNeeded: value)
        }
        func s(_ path: String) -> String { reader.string("/pool/source/" + path) ?? "" }
        switch reader.string("/pool/@type") ?? "" {
        case "dir":
            spec.dir = .init()
        case "fs":
            spec.fs = .with {
                $0.device = s("device/@path")
                $0.format = s("format/@type")
            }
        case "netfs":
            spec.netfs = .with {
                $0.host = s("host/@name")
                $0.exportPath = s("dir/@path")
                $0.format = s("format/@type")
            }
        case "disk":
            spec.disk = .with {
                $0.device = s("device/@path")
                $0.format = s("format/@type")
            }
        case "logical":
            spec.logical = .with {
                $0.volumeGroup = s("name")
                $0.devices = reader.elements("/pool/source/device").compactMap { $0.attr("path") }
            }
        case "iscsi":
            spec.iscsi = .with {
                $0.host = s("host/@name")
                $0.port = UInt32(s("host/@port")) ?? 0
                $0.targetIqn = s("device/@path")
                $0.initiatorIqn = s("initiator/iqn/@name")
            }
        case "scsi":
            spec.scsi = .with {
                let type = s("adapter/@type")
                if type == "fc_host" {
                    $0.wwnn = s("adapter/@wwnn")
                    $0.wwpn = s("adapter/@wwpn")
                    $0.parent = s("adapter/@parent")
                } else {
                    $0.adapter = s("adapter/@name")
                }
            }
        case "gluster":
            spec.gluster = .with {
                $0.host = s("host/@name")
                $0.volume = s("name")
                $0.folder = s("dir/@path")
            }
        case "rbd":
            spec.rbd = .with {
                $0.pool = s("name")
                $0.monitors = reader.elements("/pool/source/host").compactMap { host -> String? in
                    guard let name = host.attr("name") else { return nil }
                    let bracketed = name.contains(":") ? "[\(name)]" : name
                    return host.attr("port").map { "\(bracketed):\($0)" } ?? name
                }
                $0.authUser = s("auth/@username")
                $0.secretUuid = s("auth/secret/@uuid")
            }
        default:
            break
        }
        return spec
    }
}
