import Foundation
import LibXML
import Libvirt
import Synchronization
import VirtHostAPI

/// ListDomains and GetStats in a fixed number of libvirt round trips.
///
/// A list is one `virConnectGetAllDomainStats` (state, balloon, vCPUs of
/// every machine), one `virDomainListGetStats` for the CPU time of the
/// running machines of the page, and two `virConnectListAllDomains` with the
/// TRANSIENT and AUTOSTART flags, which tell those flags for all machines
/// as sets: 4 round trips whatever the count (the per-machine getters made
/// about 5 per machine). Transient rather than persistent because that list
/// is usually empty: at 1,000 machines the PERSISTENT list (1,000 handles)
/// cost 4-13 ms here, the TRANSIENT one 0.7 ms. Names, UUIDs and ids come with the handles.
/// The two flag lists are read on another libvirt thread while the
/// statistics are (``FlagSets``).
///
/// The CPU group is asked for running machines only: for a stopped one
/// libvirt 9.0's qemu driver reads /proc for pid 0 (libvirtd's own CPU
/// time), which made the read of 1,000 stopped machines take 21 ms
/// instead of 6 ms.
///
/// Where a driver's statistics lack a field (libvirt's test driver reports
/// only the state), that machine falls back to `virDomainGetInfo`; the OS
/// type, which no bulk call returns, is the host's one guest OS type when
/// its capabilities list only one (qemu: "hvm", and libvirt refuses to
/// define a machine of another), else read per machine.
enum DomainListing {
    static let listGroups: DomainStatsGroups = [.state, .balloon, .vcpu]

    /// The machines of a ListDomains request, one page: the statistics on
    /// one libvirt thread while the flag sets are read on another, then the
    /// messages.
    static func list(
        _ hypervisor: HypervisorConnection, page: Page, filter: ListFilter,
        states: Set<Virthost_V1_DomainState>
    ) async throws -> (domains: [Virthost_V1_Domain], next: String) {
        async let sets = hypervisor.run { try FlagSets($0) }
        let (chosen, next) = try await hypervisor.run { connection in
            try records(connection, page: page, filter: filter, states: states)
        }
        let flags = try await sets
        let osTypes = hypervisor.guestOSTypes
        let domains = try await hypervisor.run { connection in
            let soleOSType = osTypes.sole(connection)
            return try Listing.live(chosen) { name, record in
                try message(record, name: name, transient: flags.transient, autostart: flags.autostart, osType: soleOSType)
            }
        }
        return (domains, next)
    }

    /// Which machines are transient and which autostart, by UUID: two
    /// `virConnectListAllDomains`.
    struct FlagSets: Sendable {
        let transient: Set<String>
        let autostart: Set<String>

        init(_ connection: Connection) throws {
            transient = try connection.domainUUIDs(.transient)
            autostart = try connection.domainUUIDs(.autostart)
        }
    }

    /// The statistics records of one page, with their names, and the next
    /// page's token.
    static func records(
        _ connection: Connection, page: Page, filter: ListFilter, states: Set<Virthost_V1_DomainState>
    ) throws -> (records: [(name: String, record: DomainStatsRecord)], next: String) {
        var flags: DomainStatsFlags = [.noWait]
        switch filter {
        case .all: break
        case .active: flags.insert(.active)
        case .inactive: flags.insert(.inactive)
        }
        var records = try connection.allDomainStats(listGroups, flags: flags)
        if !states.isEmpty {
            records = records.filter { states.contains(Virthost_V1_DomainState(rawValue: Int($0.unsigned("state.state") ?? 0)) ?? .unspecified) }
        }
        // Every libvirt getter formats the UUID for its debug line: each
        // name is asked once, here, and carried along.
        let (chosen, next) = page.select(records.map { (name: $0.domain.name, record: $0) }, name: \.name)
        let withCPU = try addingCPU(connection, chosen.map(\.record))
        return (zip(chosen.map(\.name), withCPU).map { (name: $0, record: $1) }, next)
    }

    /// The records with the CPU group of their running machines added, from
    /// one `virDomainListGetStats` (none when no machine runs).
    static func addingCPU(_ connection: Connection, _ records: [DomainStatsRecord]) throws -> [DomainStatsRecord] {
        // A stopped machine has no id: libvirt is asked for it only for the others.
        let running = records.filter { !isShutOff($0) && $0.id != nil && $0["cpu.time"] == nil }
        guard !running.isEmpty else { return records }
        let cpu = try connection.domainStats(running.map(\.domain), .cpuTotal, flags: [.noWait])
        var byName: [String: [String: TypedValue]] = [:]
        for record in cpu { byName[record.domain.name] = record.values }
        return records.map { record in
            guard let extra = byName[record.domain.name] else { return record }
            return record.adding(extra)
        }
    }

    /// Whether the record says the machine is shut off (it then has no id).
    static func isShutOff(_ record: DomainStatsRecord) -> Bool {
        record.unsigned("state.state") == UInt64(Libvirt.Domain.State.shutoff.rawValue)
    }

    /// A Domain message from a statistics record and the flag sets.
    static func message(
        _ record: DomainStatsRecord, name: String, transient: Set<String>, autostart: Set<String>, osType: String?
    ) throws -> Virthost_V1_Domain {
        let domain = record.domain
        var message = Virthost_V1_Domain()
        message.name = name
        message.uuid = try domain.uuid()
        message.id = isShutOff(record) ? 0 : record.id ?? 0
        message.persistent = !transient.contains(message.uuid)
        message.autostart = autostart.contains(message.uuid)
        if let state = record.unsigned("state.state"), let maximum = record.unsigned("balloon.maximum"),
            let current = record.unsigned("balloon.current"), let vcpus = record.unsigned("vcpu.current")
        {
            message.state = Virthost_V1_DomainState(rawValue: Int(state)) ?? .unspecified
            message.maxMemoryKib = maximum
            message.memoryKib = current
            message.vcpus = UInt32(truncatingIfNeeded: vcpus)
            // libvirt 9.0's qemu driver reports a cpu.time for a stopped
            // machine (its cgroup's leftovers); virDomainGetInfo says 0.
            let running = message.state != .shutoff && message.state != .unspecified && message.id != 0
            message.cpuTimeNs = running ? record.unsigned("cpu.time") ?? 0 : 0
        } else {
            let info = try domain.info()
            message.state = Virthost_V1_DomainState(rawValue: Int(info.state.rawValue)) ?? .unspecified
            message.maxMemoryKib = info.maxMemoryKiB
            message.memoryKib = info.memoryKiB
            message.vcpus = info.vcpus
            message.cpuTimeNs = info.cpuTimeNs
        }
        message.osType = try osType ?? domain.osType()
        return message
    }

    // MARK: Statistics

    /// CPU is added for running machines only (see above).
    static let statsGroups: DomainStatsGroups = [.state, .balloon, .vcpu, .interface, .block]

    /// Statistics of the named machines (looked up, then one
    /// `virDomainListGetStats`), or of all (one `virConnectGetAllDomainStats`).
    static func stats(_ connection: Connection, refs: [ObjectRef]) throws -> [Virthost_V1_DomainStats] {
        let records: [DomainStatsRecord]
        if refs.isEmpty {
            records = try connection.allDomainStats(statsGroups, flags: [.noWait])
        } else {
            // Each lookup is a round trip; a missing machine fails the call.
            var seen = Set<String>()
            let domains = try refs.map { try connection.domain($0) }.filter { seen.insert($0.name).inserted }
            records = try connection.domainStats(domains, statsGroups, flags: [.noWait])
        }
        return try addingCPU(connection, records).map { try statsMessage($0.indexed()) }.sorted { $0.name < $1.name }
    }

    static func statsMessage(_ record: DomainStatsRecord) throws -> Virthost_V1_DomainStats {
        var stats = Virthost_V1_DomainStats()
        stats.name = record.domain.name
        stats.uuid = try record.domain.uuid()
        stats.state = Virthost_V1_DomainState(rawValue: Int(record.unsigned("state.state") ?? 0)) ?? .unspecified
        let running = stats.state != .shutoff && record.id != nil
        if running {
            stats.cpuTimeNs = record.unsigned("cpu.time") ?? 0
            stats.cpuUserNs = record.unsigned("cpu.user") ?? 0
            stats.cpuSystemNs = record.unsigned("cpu.system") ?? 0
        }
        stats.vcpusCurrent = UInt32(truncatingIfNeeded: record.unsigned("vcpu.current") ?? 0)
        stats.vcpusMaximum = UInt32(truncatingIfNeeded: record.unsigned("vcpu.maximum") ?? 0)
        for index in 0..<Int(stats.vcpusMaximum) {
            guard let time = record.unsigned("vcpu.\(index).time") else { continue }
            var vcpu = Virthost_V1_VcpuStats()
            vcpu.index = UInt32(index)
            if case .int(let state)? = record["vcpu.\(index).state"] { vcpu.state = state }
            vcpu.timeNs = time
            stats.vcpus.append(vcpu)
        }
        stats.balloonCurrentKib = record.unsigned("balloon.current") ?? 0
        stats.balloonMaximumKib = record.unsigned("balloon.maximum") ?? 0
        stats.rssKib = record.unsigned("balloon.rss") ?? 0
        stats.guestAvailableKib = record.unsigned("balloon.available") ?? 0
        stats.guestUnusedKib = record.unsigned("balloon.unused") ?? 0
        var disks = Set<String>()
        for index in 0..<Int(record.unsigned("block.count") ?? 0) {
            let key = "block.\(index)."
            // One entry per disk (no BACKING flag is passed), the top image.
            // Its block.N.backingIndex is set too, to the top image's own
            // index in the chain (1 for a plain file disk on libvirt 9.0),
            // so it tells nothing about being a lower layer.
            guard let name = record[key + "name"]?.string, disks.insert(name).inserted else { continue }
            var disk = Virthost_V1_BlockStats()
            disk.name = name
            disk.path = record[key + "path"]?.string ?? ""
            disk.readRequests = record.unsigned(key + "rd.reqs") ?? 0
            disk.readBytes = record.unsigned(key + "rd.bytes") ?? 0
            disk.writeRequests = record.unsigned(key + "wr.reqs") ?? 0
            disk.writeBytes = record.unsigned(key + "wr.bytes") ?? 0
            disk.capacity = record.unsigned(key + "capacity") ?? 0
            disk.allocation = record.unsigned(key + "allocation") ?? 0
            stats.disks.append(disk)
        }
        for index in 0..<Int(record.unsigned("net.count") ?? 0) {
            let key = "net.\(index)."
            guard let name = record[key + "name"]?.string else { continue }
            var nic = Virthost_V1_InterfaceStats()
            nic.name = name
            nic.rxBytes = record.unsigned(key + "rx.bytes") ?? 0
            nic.rxPackets = record.unsigned(key + "rx.pkts") ?? 0
            nic.rxErrors = record.unsigned(key + "rx.errs") ?? 0
            nic.rxDrops = record.unsigned(key + "rx.drop") ?? 0
            nic.txBytes = record.unsigned(key + "tx.bytes") ?? 0
            nic.txPackets = record.unsigned(key + "tx.pkts") ?? 0
            nic.txErrors = record.unsigned(key + "tx.errs") ?? 0
            nic.txDrops = record.unsigned(key + "tx.drop") ?? 0
            stats.interfaces.append(nic)
        }
        return stats
    }
}

/// The guest OS types a host's capabilities offer, read once per agent run
/// (they change only with libvirtd's drivers).
final class GuestOSTypes: Sendable {
    private let cached = Mutex<[String]?>(nil)

    /// The one OS type every machine of this host has, or nil when the
    /// capabilities offer several (or could not be read).
    func sole(_ connection: Connection) -> String? {
        if let types = cached.withLock({ $0 }) { return types.count == 1 ? types[0] : nil }
        guard let xml = try? connection.capabilities(),
            let document = try? XMLDocument(xmlString: xml),
            let nodes = try? document.nodes(forXPath: "/capabilities/guest/os_type")
        else { return nil }
        let types = Array(Set(nodes.compactMap(\.stringValue))).sorted()
        cached.withLock { $0 = types }
        return types.count == 1 ? types[0] : nil
    }
}
