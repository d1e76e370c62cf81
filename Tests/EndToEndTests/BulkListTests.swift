import Foundation
import Libvirt
import Testing
import VirtHostAPI
import VirtHostClient

/// The bulk lists on qemu:///system say what the per-object reads say:
/// ListDomains (one statistics read plus flag lists) against GetDomain,
/// ListNetworks against GetNetwork, ListVolumes against GetVolume, and
/// GetStats of shut-off machines. Objects are named with the run's prefix
/// and removed afterwards, also when an expectation fails.
@Suite(.serialized, .enabled(if: TestBed.shouldRun, "needs root, libvirtd and the test guest; make test sets them up"))
struct BulkListTests {
    @Test func bulkListsAgreeWithPerObjectReads() async throws {
        try TestBed.requireAvailable()
        let libvirt = try Connection.open(TestBed.uri)
        let prefix = TestBed.prefix + "bulk-"
        let folder = "/var/lib/libvirt/images/\(prefix)pool"
        var domains: [Libvirt.Domain] = []
        var networks: [Libvirt.Network] = []
        var pool: StoragePool?
        defer {
            for d in domains { try? d.undefine() }
            for n in networks { try? n.undefine() }
            if let pool {
                for v in (try? pool.listVolumes()) ?? [] { try? v.delete() }
                try? pool.stop()
                try? pool.undefine()
            }
            try? FileManager.default.removeItem(atPath: folder)
        }
        // Machines: memory below its maximum, fewer vCPUs than the most, one autostarted.
        for (i, (current, maximum, vcpus, most)) in [(131_072, 262_144, 1, 2), (65_536, 65_536, 2, 2), (98_304, 131_072, 1, 4)].enumerated() {
            domains.append(try libvirt.defineDomain(xml: """
                <domain type='qemu'><name>\(prefix)d\(i)</name><memory unit='KiB'>\(maximum)</memory>
                <currentMemory unit='KiB'>\(current)</currentMemory><vcpu current='\(vcpus)'>\(most)</vcpu>
                <os><type arch='x86_64'>hvm</type></os></domain>
                """))
        }
        try domains[1].setAutostart(true)
        for i in 0..<2 {
            networks.append(try libvirt.defineNetwork(xml: """
                <network><name>\(prefix)n\(i)</name><bridge name='vhtbk\(TestBed.runID.prefix(4))\(i)' stp='off'/></network>
                """))
        }
        try networks[0].setAutostart(true)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let definedPool = try libvirt.defineStoragePool(xml: """
            <pool type='dir'><name>\(prefix)pool</name><target><path>\(folder)</path></target></pool>
            """)
        pool = definedPool
        try definedPool.start()
        for (name, format) in [("a.raw", "raw"), ("b.qcow2", "qcow2"), ("c.raw", "raw"), ("d.qcow2", "qcow2"), ("e.raw", "raw")] {
            // c.raw sparse, so that writing to it changes its allocation only.
            let allocation = name == "c.raw" ? "<allocation>0</allocation>" : ""
            _ = try definedPool.createVolume(xml: """
                <volume><name>\(name)</name><capacity unit='MiB'>4</capacity>\(allocation)<target><format type='\(format)'/></target></volume>
                """)
        }

        let agent = try AgentProcess(name: "bulk")
        defer {
            if agent.process.isRunning {
                agent.process.terminate()
                agent.process.waitUntilExit()
            }
        }
        let client = agent.client

        let listed = try await client.listDomains(.with { $0.namePrefix = prefix })
        #expect(listed.domains.map(\.name) == (0..<3).map { "\(prefix)d\($0)" })
        #expect(listed.eventEpoch != 0)
        for domain in listed.domains {
            let one = try await client.domain(domain.name)
            #expect(domain == one, "\(domain.name): list \(domain) != get \(one)")
        }
        #expect(listed.domains[0].memoryKib == 131_072 && listed.domains[0].maxMemoryKib == 262_144)
        #expect(listed.domains[1].autostart && !listed.domains[0].autostart)
        #expect(listed.domains.allSatisfy { $0.persistent && $0.osType == "hvm" && $0.state == .shutoff && $0.cpuTimeNs == 0 })
        let shutoff = try await client.listDomains(.with {
            $0.namePrefix = prefix
            $0.states = [.running]
        })
        #expect(shutoff.domains.isEmpty)

        let stats = try await client.domainStats(listed.domains.map(\.name))
        #expect(stats.stats.map(\.name) == listed.domains.map(\.name))
        #expect(stats.stats[0].balloonMaximumKib == 262_144 && stats.stats[0].vcpusMaximum == 2 && stats.stats[0].vcpusCurrent == 1)
        #expect(stats.stats.allSatisfy { $0.state == .shutoff && $0.cpuTimeNs == 0 })

        let nets = try await client.listNetworks(.with { $0.namePrefix = prefix })
        #expect(nets.networks.map(\.name) == ["\(prefix)n0", "\(prefix)n1"])
        for network in nets.networks {
            #expect(network == (try await client.network(network.name)), "\(network.name)")
        }
        #expect(nets.networks[0].autostart && !nets.networks[0].active && nets.networks[0].persistent)

        // The agent reuses what it parsed from a network's XML while the XML
        // is the same: n1 redefined outside the agent (no event tells it)
        // is listed with its new bridge. A transient network is listed as
        // such (persistence comes from the TRANSIENT list).
        let bridge = "vhtbx\(TestBed.runID.prefix(4))1"
        networks[1] = try libvirt.defineNetwork(xml: """
            <network><name>\(prefix)n1</name><uuid>\(try networks[1].uuid())</uuid><bridge name='\(bridge)' stp='off'/></network>
            """)
        let transient = try libvirt.createNetwork(xml: """
            <network><name>\(prefix)t</name><bridge name='vhtbt\(TestBed.runID.prefix(4))' stp='off'/></network>
            """)
        defer { try? transient.stop() }
        let renamed = try await client.listNetworks(.with { $0.namePrefix = prefix })
        #expect(renamed.networks.map(\.name) == ["\(prefix)n0", "\(prefix)n1", "\(prefix)t"])
        #expect(renamed.networks[1].bridge == bridge)
        #expect(renamed.networks[2].active && !renamed.networks[2].persistent)
        for network in renamed.networks {
            #expect(network == (try await client.network(network.name)), "\(network.name)")
        }

        // Volumes in pages of two, without and with the format.
        var names: [String] = []
        var token = ""
        repeat {
            let page = try await client.listVolumes(.with {
                $0.pool = "\(prefix)pool"
                $0.pageSize = 2
                $0.pageToken = token
            })
            for volume in page.volumes {
                var one = try await client.volume(pool: "\(prefix)pool", name: volume.name)
                one.format = ""
                #expect(volume == one, "\(volume.name)")
            }
            names += page.volumes.map(\.name)
            token = page.nextPageToken
        } while !token.isEmpty
        #expect(names == ["a.raw", "b.qcow2", "c.raw", "d.qcow2", "e.raw"])

        // The agent reuses libvirt's info of a file volume while the file's
        // stat is unchanged. Each file now changes outside the agent, a
        // different way, and the list must say what libvirt says.
        let before = Dictionary(uniqueKeysWithValues: try await client.listVolumes(pool: "\(prefix)pool").map { ($0.name, $0) })
        func write(_ name: String, at offset: UInt64, bytes: Int) throws {
            let file = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(folder)/\(name)"))
            defer { try? file.close() }
            try file.seek(toOffset: offset)
            try file.write(contentsOf: Data(repeating: 0x5a, count: bytes))
        }
        try write("a.raw", at: 6 << 20, bytes: 1 << 20)  // grows: a raw volume's capacity is its size
        try write("c.raw", at: 0, bytes: 1 << 20)  // same size, more blocks
        try definedPool.lookupVolume(name: "b.qcow2").resize(capacity: 8 << 20)  // the qcow2 header's size
        try FileManager.default.removeItem(atPath: "\(folder)/e.raw")  // another file (inode) of 2 MiB
        #expect(FileManager.default.createFile(atPath: "\(folder)/e.raw", contents: Data(count: 2 << 20)))
        let after = try await client.listVolumes(pool: "\(prefix)pool")
        let afterWithoutFormat = try await client.listVolumes(pool: "\(prefix)pool", withFormat: false)
        for (volume, bare) in zip(after, afterWithoutFormat) {
            var one = try await client.volume(pool: "\(prefix)pool", name: volume.name)
            #expect(volume == one, "\(volume.name) after the change: list \(volume) != get \(one)")
            one.format = ""
            #expect(bare == one, "\(volume.name) after the change, no format: list \(bare) != get \(one)")
        }
        let changed = Dictionary(uniqueKeysWithValues: after.map { ($0.name, $0) })
        #expect(changed["a.raw"]?.capacity == 7 << 20 && before["a.raw"]?.capacity == 4 << 20)
        #expect(changed["b.qcow2"]?.capacity == 8 << 20)
        #expect((changed["c.raw"]?.allocation ?? 0) >= 1 << 20 && (before["c.raw"]?.allocation ?? 1) < 1 << 20)
        #expect(changed["e.raw"]?.capacity == 2 << 20)
        #expect(changed["d.qcow2"] == before["d.qcow2"])
        let formats = try await client.listVolumes(pool: "\(prefix)pool", withFormat: true).map(\.format)
        #expect(formats == ["raw", "qcow2", "raw", "qcow2", "raw"])

        // A qcow2 header written into e.raw (same file): libvirt keeps the
        // format it probed, raw, so its capacity is still the file's size,
        // and the agent's answer, derived from the stat, says so too. Once
        // the pool is refreshed (outside the agent) libvirt probes qcow2 and
        // takes the header's size; the refresh event makes the agent ask.
        let header = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(folder)/e.raw"))
        var qcow2 = [UInt8](repeating: 0, count: 512)
        qcow2.replaceSubrange(0..<8, with: [0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3])
        qcow2.replaceSubrange(24..<32, with: [0, 0, 0, 0, 4, 0, 0, 0])  // 64 MiB
        try header.write(contentsOf: Data(qcow2))
        try header.close()
        func agreeWithLibvirt(_ when: String) async throws -> [String: Virthost_V1_Volume] {
            let listed = try await client.listVolumes(pool: "\(prefix)pool")
            for volume in listed {
                let one = try await client.volume(pool: "\(prefix)pool", name: volume.name)
                #expect(volume == one, "\(volume.name) \(when): list \(volume) != get \(one)")
            }
            return Dictionary(uniqueKeysWithValues: listed.map { ($0.name, $0) })
        }
        let probedRaw = try await agreeWithLibvirt("with a qcow2 header, before the refresh")
        #expect(probedRaw["e.raw"]?.capacity == 2 << 20 && probedRaw["e.raw"]?.format == "raw")
        try definedPool.refresh()
        var probed: [String: Virthost_V1_Volume] = [:]
        for _ in 0..<50 {
            probed = Dictionary(uniqueKeysWithValues: try await client.listVolumes(pool: "\(prefix)pool").map { ($0.name, $0) })
            if probed["e.raw"]?.capacity == 64 << 20 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(probed["e.raw"]?.capacity == 64 << 20 && probed["e.raw"]?.format == "qcow2", "the agent missed the refresh: \(probed["e.raw"].map { "\($0)" } ?? "none")")
        _ = try await agreeWithLibvirt("after the refresh")
        #expect(await agent.stop() == 0)
    }
}
