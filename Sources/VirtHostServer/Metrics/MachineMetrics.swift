import Foundation
import VirtHostAPI

/// Per-machine series for the Prometheus endpoint, read at each scrape from
/// one `virConnectGetAllDomainStats` (the numbers of DomainService.GetStats).
///
/// The label sets are bounded: at most ``machineLimit`` machines (the first
/// by name; `virthost_machines` tells how many there are and
/// `virthost_machine_series_truncated` whether some were left out), at most
/// ``deviceLimit`` disks and NICs per machine. Labels are `machine`, plus
/// `disk` or `interface` on device series. The series are written at each
/// scrape, not kept in the registry, so a removed machine's series vanish.
///
/// | name | type | labels |
/// |---|---|---|
/// | `virthost_machines` | gauge | |
/// | `virthost_machine_series_truncated` | gauge (1 or 0) | |
/// | `virthost_machine_stats_up` | gauge (1 or 0: libvirt answered) | |
/// | `virthost_machine_state` | gauge (libvirt's virDomainState) | `machine` |
/// | `virthost_machine_cpu_seconds_total` | counter | `machine` |
/// | `virthost_machine_vcpus` | gauge | `machine` |
/// | `virthost_machine_vcpu_seconds_total` | counter | `machine`, `vcpu` |
/// | `virthost_machine_memory_bytes` | gauge (balloon) | `machine` |
/// | `virthost_machine_memory_max_bytes` | gauge | `machine` |
/// | `virthost_machine_rss_bytes` | gauge | `machine` |
/// | `virthost_machine_disk_{read,write}_bytes_total` | counter | `machine`, `disk` |
/// | `virthost_machine_disk_{read,write}_requests_total` | counter | `machine`, `disk` |
/// | `virthost_machine_net_{rx,tx}_{bytes,packets,drops,errors}_total` | counter | `machine`, `interface` |
enum MachineMetrics {
    /// Machines exported at most.
    static let machineLimit = 200
    /// Disks, NICs and vCPUs per machine exported at most.
    static let deviceLimit = 16

    private struct Family {
        let name: String
        let type: String
        let help: String
        var samples: [String] = []
    }

    /// The series in Prometheus' text format; `stats` nil when libvirt did not answer.
    static func render(_ stats: [Virthost_V1_DomainStats]?) -> String {
        var out = ""
        func single(_ name: String, _ type: String, _ help: String, _ value: Double) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(format(value))\n"
        }
        single("virthost_machine_stats_up", "gauge", "1 when libvirt answered the per-machine statistics read of this scrape.",
            stats == nil ? 0 : 1)
        guard let stats else { return out }
        single("virthost_machines", "gauge", "Machines on the host (defined or running).", Double(stats.count))
        single("virthost_machine_series_truncated", "gauge",
            "1 when more machines exist than the \(machineLimit) whose series are exported (the first by name).",
            stats.count > machineLimit ? 1 : 0)
        var families: [Family] = []
        var index: [String: Int] = [:]
        func add(_ name: String, _ type: String, _ help: String, _ labels: [(String, String)], _ value: Double) {
            if index[name] == nil {
                index[name] = families.count
                families.append(Family(name: name, type: type, help: help))
            }
            let text = labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
            families[index[name]!].samples.append("\(name){\(text)} \(format(value))")
        }
        for s in stats.prefix(machineLimit) {
            let m = [("machine", s.name)]
            add("virthost_machine_state", "gauge", "libvirt's virDomainState: 1 running, 3 paused, 5 shut off, ...", m, Double(s.state.rawValue))
            add("virthost_machine_cpu_seconds_total", "counter", "CPU time the machine used since it started.", m, Double(s.cpuTimeNs) / 1e9)
            add("virthost_machine_vcpus", "gauge", "Virtual CPUs in use.", m, Double(s.vcpusCurrent))
            for v in s.vcpus.prefix(deviceLimit) {
                add("virthost_machine_vcpu_seconds_total", "counter", "Time of one virtual CPU.",
                    m + [("vcpu", String(v.index))], Double(v.timeNs) / 1e9)
            }
            add("virthost_machine_memory_bytes", "gauge", "The balloon's current size.", m, Double(s.balloonCurrentKib) * 1024)
            add("virthost_machine_memory_max_bytes", "gauge", "The machine's maximum memory.", m, Double(s.balloonMaximumKib) * 1024)
            add("virthost_machine_rss_bytes", "gauge", "Resident set of the machine's QEMU process (0 when stopped).", m, Double(s.rssKib) * 1024)
            for d in s.disks.prefix(deviceLimit) {
                let l = m + [("disk", d.name)]
                add("virthost_machine_disk_read_bytes_total", "counter", "Bytes read from a disk.", l, Double(d.readBytes))
                add("virthost_machine_disk_write_bytes_total", "counter", "Bytes written to a disk.", l, Double(d.writeBytes))
                add("virthost_machine_disk_read_requests_total", "counter", "Read requests of a disk.", l, Double(d.readRequests))
                add("virthost_machine_disk_write_requests_total", "counter", "Write requests of a disk.", l, Double(d.writeRequests))
            }
            for n in s.interfaces.prefix(deviceLimit) {
                let l = m + [("interface", n.name)]
                add("virthost_machine_net_rx_bytes_total", "counter", "Bytes a NIC received.", l, Double(n.rxBytes))
                add("virthost_machine_net_rx_packets_total", "counter", "Packets a NIC received.", l, Double(n.rxPackets))
                add("virthost_machine_net_rx_drops_total", "counter", "Received packets a NIC dropped.", l, Double(n.rxDrops))
                add("virthost_machine_net_rx_errors_total", "counter", "Receive errors of a NIC.", l, Double(n.rxErrors))
                add("virthost_machine_net_tx_bytes_total", "counter", "Bytes a NIC sent.", l, Double(n.txBytes))
                add("virthost_machine_net_tx_packets_total", "counter", "Packets a NIC sent.", l, Double(n.txPackets))
                add("virthost_machine_net_tx_drops_total", "counter", "Packets to send a NIC dropped.", l, Double(n.txDrops))
                add("virthost_machine_net_tx_errors_total", "counter", "Send errors of a NIC.", l, Double(n.txErrors))
            }
        }
        for family in families {
            out += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.type)\n"
            out += family.samples.joined(separator: "\n") + "\n"
        }
        return out
    }

    /// A label value escaped as the text format wants (backslash, quote, newline).
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// Reads every machine's statistics on a libvirt thread and hands them
    /// (nil when libvirt does not answer) to `done` there.
    static func read(_ hypervisor: HypervisorConnection, done: @escaping @Sendable ([Virthost_V1_DomainStats]?) -> Void) {
        hypervisor.execute({ try DomainListing.stats($0, refs: []) }, done: { done(try? $0.get()) })
    }
}
