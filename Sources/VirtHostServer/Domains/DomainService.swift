import GRPCCore
import Libvirt
import VirtHostAPI

/// DomainService: machines and the NICs and disks on them.
struct DomainService: Virthost_V1_DomainService.SimpleServiceProtocol {
    let hypervisor: HypervisorConnection

    func listDomains(
        request: Virthost_V1_ListDomainsRequest, context: ServerContext
    ) async throws -> Virthost_V1_ListDomainsResponse {
        let filter = try ListFilter(activeOnly: request.activeOnly, inactiveOnly: request.inactiveOnly)
        let page = try Page(.domains, size: request.pageSize, token: request.pageToken, prefix: request.namePrefix)
        for state in request.states where !(1...7).contains(state.rawValue) {
            throw Refusal.invalid("states holds an unknown machine state (\(state.rawValue))")
        }
        let states = Set(request.states)
        let position = ListPosition(hypervisor.events)
        let (domains, next) = try await DomainListing.list(
            hypervisor, page: page, filter: filter, states: states)
        var response = Virthost_V1_ListDomainsResponse()
        response.domains = domains
        response.nextPageToken = next
        response.eventSequence = position.sequence
        response.eventEpoch = position.epoch
        return response
    }

    func getStats(request: Virthost_V1_GetStatsRequest, context: ServerContext) async throws -> Virthost_V1_GetStatsResponse {
        guard request.domains.count <= Page.maximumSize else {
            throw Refusal.invalid("domains holds \(request.domains.count) machines; at most \(Page.maximumSize) (or none for all)")
        }
        let refs = try request.domains.map { try ObjectRef($0) }
        let position = ListPosition(hypervisor.events)
        return try await hypervisor.run { connection in
            var response = Virthost_V1_GetStatsResponse()
            response.stats = try DomainListing.stats(connection, refs: refs)
            response.eventSequence = position.sequence
            response.eventEpoch = position.epoch
            return response
        }
    }

    func getDomain(request: Virthost_V1_GetDomainRequest, context: ServerContext) async throws -> Virthost_V1_Domain {
        let ref = try ObjectRef(request.domain)
        return try await hypervisor.run(machine: ref) { try Virthost_V1_Domain($0.domain(ref)) }
    }

    func getDomainXML(
        request: Virthost_V1_GetDomainXMLRequest, context: ServerContext
    ) async throws -> Virthost_V1_GetDomainXMLResponse {
        let ref = try ObjectRef(request.domain)
        var flags: Libvirt.Domain.XMLFlags = []
        if request.inactive { flags.insert(.inactive) }
        if request.secure { flags.insert(.secure) }
        return try await hypervisor.run(machine: ref) { [flags] connection in
            var response = Virthost_V1_GetDomainXMLResponse()
            response.xml = try connection.domain(ref).xml(flags)
            return response
        }
    }

    func startDomain(request: Virthost_V1_DomainRef, context: ServerContext) async throws -> Virthost_V1_Domain {
        let ref = try ObjectRef(request)
        return try await hypervisor.run(machine: ref) { connection in
            let domain = try connection.domain(ref)
            try domain.start()
            return try Virthost_V1_Domain(domain)
        }
    }

    func shutdownDomain(request: Virthost_V1_ShutdownDomainRequest, context: ServerContext) async throws -> Virthost_V1_Domain {
        let ref = try ObjectRef(request.domain)
        let flags: Libvirt.Domain.ShutdownFlags
        switch request.mode {
        case "": flags = []
        case "acpi": flags = .acpiPowerButton
        case "agent": flags = .guestAgent
        default: throw Refusal.invalid("shutdown mode '\(request.mode.prefix(32))' is not one of: acpi, agent (or empty)")
        }
        return try await hypervisor.run(machine: ref) { connection in
            let domain = try connection.domain(ref)
            try domain.shutdown(flags)
            return try Virthost_V1_Domain(domain)
        }
    }

    func destroyDomain(request: Virthost_V1_DomainRef, context: ServerContext) async throws -> Virthost_V1_Domain {
        try await change(request) { try $0.destroy() }
    }

    func rebootDomain(request: Virthost_V1_RebootDomainRequest, context: ServerContext) async throws -> Virthost_V1_Domain {
        let flags: Libvirt.Domain.RebootFlags
        switch request.mode {
        case "": flags = []
        case "acpi": flags = .acpiPowerButton
        case "agent": flags = .guestAgent
        default: throw Refusal.invalid("reboot mode '\(request.mode.prefix(32))' is not one of: acpi, agent (or empty)")
        }
        return try await change(request.domain) { try $0.reboot(flags) }
    }

    func resetDomain(request: Virthost_V1_DomainRef, context: ServerContext) async throws -> Virthost_V1_Domain {
        try await change(request) { try $0.reset() }
    }

    func suspendDomain(request: Virthost_V1_DomainRef, context: ServerContext) async throws -> Virthost_V1_Domain {
        try await change(request) { try $0.suspend() }
    }

    func resumeDomain(request: Virthost_V1_DomainRef, context: ServerContext) async throws -> Virthost_V1_Domain {
        try await change(request) { try $0.resume() }
    }

    func setDomainAutostart(
        request: Virthost_V1_SetDomainAutostartRequest, context: ServerContext
    ) async throws -> Virthost_V1_Domain {
        try await change(request.domain) { try $0.setAutostart(request.autostart) }
    }

    /// Looks the machine up, applies `body`, returns the machine as it is now.
    private func change(
        _ request: Virthost_V1_DomainRef, _ body: @escaping @Sendable (Libvirt.Domain) throws -> Void
    ) async throws -> Virthost_V1_Domain {
        let ref = try ObjectRef(request)
        return try await hypervisor.run(machine: ref) { connection in
            let domain = try connection.domain(ref)
            try body(domain)
            return try Virthost_V1_Domain(domain)
        }
    }

    func undefineDomain(request: Virthost_V1_UndefineDomainRequest, context: ServerContext) async throws -> Virthost_V1_Empty {
        let ref = try ObjectRef(request.domain)
        var flags: Libvirt.Domain.UndefineFlags = []
        if request.snapshotsMetadata { flags.insert(.snapshotsMetadata) }
        if request.nvram { flags.insert(.nvram) }
        return try await hypervisor.run(machine: ref) { [flags] connection in
            try connection.domain(ref).undefine(flags)
            return Virthost_V1_Empty()
        }
    }

    func listInterfaces(
        request: Virthost_V1_ListInterfacesRequest, context: ServerContext
    ) async throws -> Virthost_V1_ListInterfacesResponse {
        let ref = try ObjectRef(request.domain)
        let xml = try await hypervisor.run(machine: ref) { try $0.domain(ref).xml(request.inactive ? .inactive : []) }
        var response = Virthost_V1_ListInterfacesResponse()
        response.interfaces = try DomainXML.interfaces(xml)
        return response
    }

    func listDisks(request: Virthost_V1_ListDisksRequest, context: ServerContext) async throws -> Virthost_V1_ListDisksResponse {
        let ref = try ObjectRef(request.domain)
        let xml = try await hypervisor.run(machine: ref) { try $0.domain(ref).xml(request.inactive ? .inactive : []) }
        var response = Virthost_V1_ListDisksResponse()
        response.disks = try DomainXML.disks(xml)
        return response
    }

}
