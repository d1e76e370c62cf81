import GRPCCore
import Libvirt
import VirtHostAPI

// Defining machines: from raw XML (admins) or from a typed spec (operators
// too; the agent writes the XML, see DomainSpecPlan).
extension DomainService {
    func defineDomain(request: Virthost_V1_DefineDomainRequest, context: ServerContext) async throws -> Virthost_V1_Domain {
        switch request.definition {
        case .xml(let xml):
            try CallerAccess.current.requireAdmin(
                "a machine from raw XML can hand any host file or device to its guest; operators define machines from a typed spec")
            try Validate.xmlDocument(xml, root: "domain")
            return try await hypervisor.run { connection in
                let domain = try connection.defineDomain(xml: xml)
                if request.start { try domain.start() }
                return try Virthost_V1_Domain(domain)
            }
        case .spec(let spec):
            return try await define(spec, start: request.start)
        case nil:
            throw Refusal.invalid("give the machine as a spec or as xml")
        }
    }

    /// Defines a new machine from a typed spec: never replaces one (a spec
    /// that names an existing machine is ALREADY_EXISTS). When marking it
    /// autostart or starting it fails, the new definition is removed again,
    /// so a failed call leaves nothing behind.
    private func define(_ spec: Virthost_V1_DomainSpec, start: Bool) async throws -> Virthost_V1_Domain {
        let localHost = Self.isLocal(hypervisor.uri)
        let plan = try DomainSpecPlan(spec) { path in localHost && Self.isBlockDevice(path) }
        let confinement = StorageConfinement(uri: hypervisor.uri)
        let paths = plan.hostPaths
        for path in paths.disks { try confinement.checkDiskPath(path) }
        if let output = paths.output { try confinement.checkOutputFile(output) }
        for nic in plan.nics { try NetworkConfinement.checkNIC(type: nic.type, source: nic.source) }
        return try await hypervisor.run { connection in
            if (try? connection.lookupDomain(name: plan.name)) != nil {
                throw Refusal(.alreadyExists, "a machine named '\(plan.name)' exists already; a typed spec defines new machines only")
            }
            for nic in plan.nics where nic.type == .network {
                _ = try ObjectRef.name(nic.source).lookup(
                    "network", byName: connection.lookupNetwork(name:), byUUID: connection.lookupNetwork(uuid:))
            }
            let xml = try plan.xml(connection: connection, confinement: confinement)
            let domain = try connection.defineDomain(xml: xml)
            do {
                if plan.autostart { try domain.setAutostart(true) }
                if start { try domain.start() }
            } catch {
                try? domain.undefine([.nvram])
                throw error
            }
            return try Virthost_V1_Domain(domain)
        }
    }
}
