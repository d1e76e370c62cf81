import Foundation
import GRPCCore
import Libvirt
import VirtHostAPI

// Disks on machines: attach and detach (virsh attach-disk / detach-disk).
extension DomainService {
    /// How long a live detach may wait for the guest to release the disk
    /// (after libvirt's own wait of about 5 s) before it is reported pending.
    static let diskDetachWait: Duration = .seconds(5)

    func attachDisk(request: Virthost_V1_AttachDiskRequest, context: ServerContext) async throws -> Virthost_V1_Disk {
        let ref = try ObjectRef(request.domain)
        let localHost = Self.isLocal(hypervisor.uri)
        let attach = try DiskXML.attach(request) { path in localHost && Self.isBlockDevice(path) }
        if localHost, case .file(let path) = attach.source, !FileManager.default.fileExists(atPath: path) {
            throw RPCError(code: .notFound, message: "no file or device '\(path)' on this host")
        }
        let flags = Self.diskFlags(request.scope)
        return try await hypervisor.run { connection in
            let domain = try connection.domain(ref)
            // A target in use: say so plainly (libvirt calls it invalid XML).
            let active = try domain.isActive()
            let changesLive = flags.contains(.live) || (flags.isEmpty && active)
            let changesConfig = flags.contains(.config) || (flags.isEmpty && !active)
            for (inactive, wanted) in [(false, changesLive), (true, changesConfig)] where wanted {
                if try DiskXML.element(target: attach.target, inDomainXML: try domain.xml(inactive ? .inactive : [])) != nil {
                    throw RPCError(
                        code: .alreadyExists,
                        message: "machine '\(domain.name)' already has a disk on target '\(attach.target)' in its "
                            + "\(inactive ? "persistent" : "live") definition")
                }
            }
            var format = attach.format
            if format.isEmpty, case .volume(let poolName, let volumeName) = attach.source {
                let (_, volume) = try connection.volume(pool: poolName, name: volumeName)
                format = VolumeXML.diskFormat(forVolumeFormat: VolumeXML.format(try volume.xml()))
            }
            try domain.attachDevice(xml: DiskXML.xml(attach, format: format.isEmpty ? "raw" : format), flags)
            let readLive = changesLive
            let xml = try domain.xml(readLive ? [] : .inactive)
            guard let disk = try DomainXML.disks(xml).first(where: { $0.target == attach.target }) else {
                throw RPCError(code: .internalError, message: "libvirt attached the disk but its XML has no target '\(attach.target)'")
            }
            return disk
        }
    }

    func detachDisk(request: Virthost_V1_DetachDiskRequest, context: ServerContext) async throws -> Virthost_V1_DetachResult {
        let ref = try ObjectRef(request.domain)
        try DiskXML.target(request.target)
        let flags = Self.diskFlags(request.scope)
        let target = request.target
        let live = try await hypervisor.run { connection -> Bool in
            let domain = try connection.domain(ref)
            let live = try flags.contains(.live) || (flags.isEmpty && domain.isActive())
            // The element to detach: from the definition the change applies to.
            let xml = try domain.xml(live ? [] : .inactive)
            guard let element = try DiskXML.element(target: target, inDomainXML: xml) else {
                throw RPCError(
                    code: .notFound,
                    message: "machine '\(domain.name)' has no disk with target '\(target)' in its \(live ? "live" : "persistent") definition")
            }
            try domain.detachDevice(xml: element, flags)
            return live
        }
        var result = Virthost_V1_DetachResult()
        guard live else {
            result.completed = true
            return result
        }
        // libvirt returns once qemu confirmed the removal or after its own
        // wait; the guest may still hold the disk. Watch the live XML.
        let clock = ContinuousClock()
        let deadline = clock.now + Self.diskDetachWait
        while true {
            let present = try await hypervisor.run { connection in
                try DiskXML.element(target: target, inDomainXML: try connection.domain(ref).xml()) != nil
            }
            if !present {
                result.completed = true
                return result
            }
            if clock.now >= deadline {
                result.pending = true
                return result
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// virsh's --live/--config; neither is --current.
    static func diskFlags(_ scope: Virthost_V1_DeviceScope) -> Libvirt.Domain.DeviceModifyFlags {
        var flags: Libvirt.Domain.DeviceModifyFlags = []
        if scope.live { flags.insert(.live) }
        if scope.config { flags.insert(.config) }
        return flags
    }

    /// Whether the libvirt URI names this host (no remote transport or host),
    /// so host paths can be checked here.
    static func isLocal(_ uri: String) -> Bool {
        guard let components = URLComponents(string: uri) else { return false }
        return (components.host ?? "").isEmpty && !(components.scheme ?? "").contains("+")
    }

    static func isBlockDevice(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFBLK
    }
}
