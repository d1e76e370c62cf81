import Foundation
import LibXML
import Libvirt
import VirtHostAPI

// Builders of proto messages from libvirt objects. They call libvirt, so they
// run on a libvirt thread (inside HypervisorConnection.run).

extension Virthost_V1_Domain {
    init(_ domain: Libvirt.Domain) throws {
        self.init()
        let info = try domain.info()
        name = domain.name
        uuid = try domain.uuid()
        id = domain.id ?? 0
        state = Virthost_V1_DomainState(rawValue: Int(info.state.rawValue)) ?? .unspecified
        maxMemoryKib = info.maxMemoryKiB
        memoryKib = info.memoryKiB
        vcpus = info.vcpus
        cpuTimeNs = info.cpuTimeNs
        persistent = try domain.isPersistent()
        autostart = (try? domain.autostart()) ?? false
        osType = (try? domain.osType()) ?? ""
    }
}

extension Virthost_V1_Network {
    /// - Parameter xml: the network's XML when the caller already read it
    ///   (one libvirt round trip fewer).
    init(_ network: Libvirt.Network, xml: String? = nil) throws {
        try self.init(network, parsed: try XMLReader(try xml ?? network.xml()))
    }

    /// - Parameter parsed: the network's XML, parsed once for this and the spec.
    init(_ network: Libvirt.Network, parsed: XMLReader) throws {
        self.init()
        name = network.name
        uuid = try network.uuid()
        active = try network.isActive()
        persistent = try network.isPersistent()
        autostart = (try? network.autostart()) ?? false
        let summary = NetworkXML.summary(parsed)
        bridge = summary.bridge
        forwardMode = summary.forwardMode
        addresses = summary.addresses
    }
}

extension Virthost_V1_Pool {
    init(_ pool: StoragePool) throws {
        self.init()
        let info = try pool.info()
        name = pool.name
        uuid = try pool.uuid()
        state = Virthost_V1_PoolState(rawValue: Int(info.state.rawValue) + 1) ?? .unspecified
        persistent = try pool.isPersistent()
        autostart = (try? pool.autostart()) ?? false
        capacity = info.capacity
        allocation = info.allocation
        available = info.available
        let reader = try XMLReader(try pool.xml())
        type = reader.string("/pool/@type") ?? ""
        targetPath = reader.string("/pool/target/path") ?? ""
        if info.state == .running {
            volumeCount = UInt32((try? pool.volumeCount()) ?? 0)
        }
    }
}

extension Virthost_V1_Volume {
    init(_ volume: StorageVolume, pool: String) throws {
        self.init()
        let info = try volume.info()
        name = volume.name
        self.pool = pool
        key = try volume.key()
        path = (try? volume.path()) ?? ""
        type = ["file", "block", "dir", "network", "netdir", "ploop"][Int(info.kind.rawValue)]
        capacity = info.capacity
        allocation = info.allocation
        format = (try? XMLReader(try volume.xml()).string("/volume/target/format/@type")) ?? ""
    }
}
