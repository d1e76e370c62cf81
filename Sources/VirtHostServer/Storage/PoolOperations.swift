import Libvirt
import VirtHostAPI

/// Pools: define, then build, start and mark autostart as asked, as one step
/// that leaves no half-made pool. A plain operation on one connection, run on
/// a libvirt thread, no gRPC.
struct PoolOperations {
    let connection: Connection

    init(_ connection: Connection) { self.connection = connection }

    /// Defines a pool from checked XML, then builds, starts and marks it
    /// autostart as asked. When a later step fails the definition is removed
    /// again (what a build already wrote to a device stays written).
    func define(xml: String, build: Bool, overwrite: Bool, start: Bool, autostart: Bool) throws -> Virthost_V1_Pool {
        let pool = try connection.defineStoragePool(xml: xml)
        do {
            if build { try pool.build(overwrite: overwrite) }
            if start {
                try GlusterGuard.check(poolXML: try pool.xml())
                try pool.start()
            }
            if autostart { try pool.setAutostart(true) }
        } catch let error as Refusal {
            try? pool.undefine()
            throw Refusal(error.kind, "pool '\(pool.name)' was defined but not started, so the definition was removed: \(error.message)")
        } catch let error as LibvirtError {
            if (try? pool.isActive()) == true { try? pool.stop() }
            try? pool.undefine()
            let step = start && build ? "build or start" : start ? "start" : build ? "build" : "autostart"
            throw LibvirtError(
                code: error.code, domain: error.domain,
                message: "pool '\(pool.name)' was defined but its \(step) failed, so the definition was removed: \(error.message)")
        }
        return try Virthost_V1_Pool.described(pool)
    }
}
