import LibXML
import Libvirt
import VirtHostAPI

/// ListVolumes with as few libvirt round trips per volume as libvirt allows.
///
/// libvirt has no bulk call for volume details: `virStorageVolGetInfo` is
/// one round trip per volume (and the only one left: type, capacity and
/// allocation). The rest comes without one: name and key with the handles
/// of `virStoragePoolListAllVolumes`; the path is the key in the pool types
/// whose key is the path (dir, fs, netfs), else `virStorageVolGetPath`; the
/// format needs the volume's XML, read only when the request asks
/// (`with_format`). A large page is read by several libvirt threads at once,
/// each on its own connection (libvirtd serves them in parallel).
enum VolumeListing {
    /// Pool types whose volume key is the volume's path.
    static let keyIsPath: Set<String> = ["dir", "fs", "netfs"]
    /// Volumes per libvirt thread when a page is read in parallel.
    static let chunk = 200

    /// What one round of reading found: the pool's type and the page's names.
    struct Plan: Sendable {
        let pool: String
        let type: String
        let names: [String]
        let next: String
    }

    /// Pool lookup, the pool's XML (its type) and the volume list: 3 round trips.
    static func plan(_ connection: Connection, pool name: String, page: Page) throws -> Plan {
        let pool = try connection.pool(.name(name))
        let type = try XMLReader(try pool.xml()).string("/pool/@type") ?? ""
        let (names, next) = page.select(try pool.listVolumes().map(\.name), name: { $0 })
        return Plan(pool: pool.name, type: type, names: names, next: next)
    }

    /// The volumes of `names` (any that vanished are skipped): the pool
    /// lookup and volume list again on this thread's connection, then one
    /// info per volume (plus path and XML where needed).
    static func read(_ connection: Connection, plan: Plan, names: ArraySlice<String>, withFormat: Bool) throws -> [Virthost_V1_Volume] {
        let pool = try connection.pool(.name(plan.pool))
        let wanted = Set(names)
        let volumes = try pool.listVolumes().filter { wanted.contains($0.name) }
        let pathIsKey = keyIsPath.contains(plan.type)
        return try Listing.live(volumes) { volume in
            let info = try volume.info()
            var message = Virthost_V1_Volume()
            message.name = volume.name
            message.pool = plan.pool
            message.key = try volume.key()
            message.path = pathIsKey ? message.key : ((try? volume.path()) ?? "")
            message.type = ["file", "block", "dir", "network", "netdir", "ploop"][Int(info.kind.rawValue)]
            message.capacity = info.capacity
            message.allocation = info.allocation
            if withFormat {
                message.format = (try? XMLReader(try volume.xml()).string("/volume/target/format/@type")) ?? ""
            }
            return message
        }
    }

    /// One page of a pool's volumes, sorted by name.
    static func list(
        _ hypervisor: HypervisorConnection, pool: String, page: Page, withFormat: Bool
    ) async throws -> (volumes: [Virthost_V1_Volume], next: String) {
        let plan = try await hypervisor.run { connection in try VolumeListing.plan(connection, pool: pool, page: page) }
        let chunks = stride(from: 0, to: plan.names.count, by: chunk).map {
            plan.names[$0..<min($0 + chunk, plan.names.count)]
        }
        var volumes: [Virthost_V1_Volume] = []
        try await withThrowingTaskGroup(of: [Virthost_V1_Volume].self) { group in
            for names in chunks {
                group.addTask {
                    try await hypervisor.run { connection in
                        try read(connection, plan: plan, names: names, withFormat: withFormat)
                    }
                }
            }
            for try await part in group { volumes += part }
        }
        return (volumes.sorted { $0.name < $1.name }, plan.next)
    }
}
