import Foundation
import GRPCCore
import Testing
import VirtHostAPI
import VirtHostClient
@testable import VirtHostServer

/// Operators reach only what an admin designated: storage roots, listed
/// bridges and devices, typed specs instead of raw XML. Over the socket with
/// this process (root) configured as an operator, against the demo host.
@Suite struct ConfinementTests {
    // MARK: Paths

    @Test func resolvingFollowsSymlinksAndDotDot() throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let real = HostPaths.resolve(folder)!
        try FileManager.default.createDirectory(atPath: folder + "/root/sub", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder + "/root/out", withDestinationPath: "/etc")
        #expect(HostPaths.resolve(folder + "/root/sub/../../root") == real + "/root")
        #expect(HostPaths.resolve(folder + "/root/out/shadow") == "/etc/shadow")
        #expect(HostPaths.resolve(folder + "/root/new/file.img") == real + "/root/new/file.img")
        #expect(HostPaths.resolve(folder + "/root/new/../../etc") == nil, "'..' in the missing part")
        #expect(HostPaths.resolve("relative/path") == nil)
        #expect(HostPaths.isInside(real + "/root/sub", folder: folder + "/root"))
        #expect(HostPaths.isInside(real + "/root", folder: folder + "/root"))
        #expect(!HostPaths.isInside(real + "/rootother", folder: folder + "/root"), "a sibling with the same prefix")
        #expect(!HostPaths.isInside("/etc/shadow", folder: folder + "/root"))
        #expect(HostPaths.kind(folder + "/root/out") == .symlink(to: "/etc"))
        #expect(HostPaths.kind(folder + "/root/sub") == .directory)
        #expect(HostPaths.kind(folder + "/missing") == .missing)
        #expect(HostPaths.Host(uri: "qemu:///system") == .local)
        #expect(HostPaths.Host(uri: "test:///default") == .simulated)
        #expect(HostPaths.Host(uri: "qemu+ssh://other/system") == .remote)
    }

    @Test func configurationReadsTheRules() throws {
        let config = try DaemonConfiguration.parse("""
            [access]
            storage_roots = ["/srv/images", "/var/lib/libvirt/images"]
            operator_bridges = ["br0"]
            operator_devices = ["eth1"]
            operator_taps = ["tap-web1"]
            """)
        #expect(config.daemon.access.confinement.storageRoots == ["/srv/images", "/var/lib/libvirt/images"])
        #expect(config.daemon.access.confinement.operatorBridges == ["br0"])
        #expect(config.daemon.access.confinement.operatorDevices == ["eth1"])
        #expect(config.daemon.access.confinement.operatorTaps == ["tap-web1"])
        #expect(throws: DaemonConfiguration.Invalid.self) { try DaemonConfiguration.parse("[access]\noperator_taps = [\"a b\"]") }
        #expect(try DaemonConfiguration.parse("").daemon.access.confinement.storageRoots == ["/var/lib/libvirt/images"])
        #expect(throws: DaemonConfiguration.Invalid.self) { try DaemonConfiguration.parse("[access]\nstorage_roots = [\"images\"]") }
        #expect(throws: DaemonConfiguration.Invalid.self) { try DaemonConfiguration.parse("[access]\nstorage_roots = [\"/srv/../etc\"]") }
        #expect(throws: DaemonConfiguration.Invalid.self) { try DaemonConfiguration.parse("[access]\noperator_bridges = [\"a/b\"]") }
    }

    // MARK: Storage

    @Test func operatorPoolsStayInsideTheStorageRoots() async throws {
        try await withOperatorAgent { client, root in
            try FileManager.default.createSymbolicLink(atPath: root + "/out", withDestinationPath: "/etc")
            for target in ["/etc", "/", root + "/out/sub", root + "-sibling/x"] {
                let error = try await refusal { _ = try await client.definePool(Self.dirPool("vht-esc", target)) }
                #expect(error.code == .permissionDenied, "target \(target)")
                #expect(error.message.contains("storage_roots"), "\(error.message)")
            }
            // '..' is refused before anything else looks at the path.
            #expect(try await refusal { _ = try await client.definePool(Self.dirPool("vht-esc", root + "/../../etc")) }.code == .invalidArgument)
            #expect(try await client.listPools().allSatisfy { $0.name != "vht-esc" }, "nothing was defined")

            var fs = Self.dirPool("vht-fs", root + "/fs")
            fs.fs = .with { $0.device = "/dev/sda1" }
            #expect(try await refusal { _ = try await client.definePool(fs) }.message.contains("dir pools only"))
            #expect(try await refusal { _ = try await client.definePool(xml: "<pool type='dir'><name>x</name><target><path>/etc</path></target></pool>") }
                .message.contains("raw XML"))
            var owned = Self.dirPool("vht-owned", root + "/owned")
            owned.ownerUid = 65534
            #expect(try await refusal { _ = try await client.definePool(owned) }.code == .permissionDenied)

            let pool = try await client.definePool(Self.dirPool("vht-ok", root + "/ok"))
            #expect(pool.name == "vht-ok")
            try await client.undefinePool("vht-ok")
        }
    }

    /// The test driver attaches nothing (Tests/python/test_confinement.py
    /// attaches for real); the refusals come before libvirt.
    @Test func operatorDisksByPathStayInsideARoot() async throws {
        try await withOperatorAgent { client, root in
            try FileManager.default.createSymbolicLink(atPath: root + "/link.img", withDestinationPath: "/etc/passwd")
            let cases: [(String, String)] = [("/etc/passwd", "storage roots"), (root + "/link.img", "resolves to /etc/passwd")]
            let before = try await client.domainXML("db-1", inactive: true)
            for (path, reason) in cases {
                let error = try await refusal {
                    _ = try await client.attachDisk(domain: "db-1", source: .path(path), target: "vdz", config: true)
                }
                #expect(error.code == .permissionDenied, "\(path)")
                #expect(error.message.contains(reason), "\(path): \(error.message)")
            }
            #expect(try await client.domainXML("db-1", inactive: true) == before, "nothing attached")
        }
    }

    // MARK: Networks

    @Test func operatorNetworksAndNICsAvoidUnlistedHostLinks() async throws {
        try await withOperatorAgent(bridges: ["virbr-listed"]) { client, _ in
            var bridged = Virthost_V1_NetworkSpec()
            bridged.name = "vht-bridged"
            bridged.bridged = .with { $0.bridge = "br0" }
            #expect(try await refusal { _ = try await client.defineNetwork(bridged) }.message.contains("bridged network"))
            #expect(try await refusal { _ = try await client.defineNetwork(xml: "<network><name>vht-raw</name></network>") }
                .message.contains("raw XML"))
            #expect(try await client.listNetworks().allSatisfy { !$0.name.hasPrefix("vht-") })

            var isolated = Virthost_V1_NetworkSpec()
            isolated.name = "vht-isolated"
            isolated.isolated = .init()
            _ = try await client.defineNetwork(isolated)
            try await client.undefineNetwork("vht-isolated")

            let unlisted = try await refusal {
                _ = try await client.attachInterface(domain: "db-1", type: .bridge, source: "br-other", scope: .config)
            }
            #expect(unlisted.code == .permissionDenied)
            #expect(unlisted.message.contains("operator_bridges"))
            let direct = try await refusal {
                _ = try await client.attachInterface(domain: "db-1", type: .direct, source: "eth0", scope: .config)
            }
            #expect(direct.message.contains("operator_devices"))
            let tap = try await refusal {
                _ = try await client.attachInterface(domain: "db-1", type: .tap, source: "tap9", scope: .config)
            }
            #expect(tap.code == .permissionDenied && tap.message.contains("operator_taps"))
            // Host addresses, routes and uplink bridges are admin calls.
            #expect(try await refusal { _ = try await client.addAddress("lo", "192.0.2.1/24") }.code == .permissionDenied)
            #expect(try await refusal { _ = try await client.bridgeUplink("vht-b", uplink: "eth0") }.code == .permissionDenied)
            #expect(try await refusal { _ = try await client.attachHostdev(domain: "db-1", pciAddress: "0000:00:03.0") }.code == .permissionDenied)
            #expect(try await client.listPendingBridges().isEmpty)
            // A listed bridge passes the rule and reaches libvirt (whose test driver attaches nothing).
            let listed = try await refusal {
                _ = try await client.attachInterface(domain: "db-1", type: .bridge, source: "virbr-listed", scope: .config)
            }
            #expect(listed.code == .unimplemented)
        }
    }

    // MARK: Machines

    @Test func operatorsDefineMachinesFromSpecsOnly() async throws {
        try await withOperatorAgent { client, root in
            let raw = try await refusal { _ = try await client.defineDomain(xml: "<domain type='test'><name>vht-raw</name></domain>") }
            #expect(raw.code == .permissionDenied)
            #expect(raw.message.contains("typed spec"))

            var escape = Self.machine("vht-escape")
            escape.disks = [.with { $0.path = "/etc/shadow" }]
            #expect(try await refusal { _ = try await client.defineDomain(spec: escape) }.code == .permissionDenied)

            let spec = Self.machine("vht-typed")
            let domain = try await client.defineDomain(spec: spec, start: true)
            #expect(domain.state == .running)
            #expect(domain.vcpus == 2 && domain.maxMemoryKib == 256 * 1024)
            let xml = try await client.domainXML("vht-typed", inactive: true)
            #expect(xml.contains("org.qemu.guest_agent.0"))
            #expect(xml.contains("pool='demo-images'") && xml.contains("volume='web-1.qcow2'"))
            #expect(xml.contains("<boot order='1'/>") || xml.contains("<boot order=\"1\"/>"))
            #expect(try await refusal { _ = try await client.defineDomain(spec: spec) }.code == .alreadyExists)

            // The lifecycle calls an operator expects.
            #expect(try await client.suspendDomain("vht-typed").state == .paused)
            #expect(try await client.resumeDomain("vht-typed").state == .running)
            #expect(try await client.setDomainAutostart("vht-typed", true).autostart)
            #expect(try await client.setDomainAutostart("vht-typed", false).autostart == false)
            _ = try await client.rebootDomain("vht-typed")
            _ = try await client.destroyDomain("vht-typed")
            #expect(try await refusal { _ = try await client.rebootDomain("vht-typed", mode: "kick") }.code == .invalidArgument)
            try await client.undefineDomain("vht-typed")
        }
    }

    @Test func specsAreCheckedBeforeLibvirt() throws {
        func problem(_ change: (inout Virthost_V1_DomainSpec) -> Void) -> String? {
            var spec = Self.machine("vht-check")
            change(&spec)
            do {
                _ = try DomainSpecPlan(spec) { _ in false }
                return nil
            } catch let refusal as Refusal {
                return refusal.message
            } catch {
                return "\(error)"
            }
        }
        #expect(problem { _ in } == nil)
        #expect(problem { $0.name = "bad/name" }?.contains("machine name") == true)
        #expect(problem { $0.memoryBytes = 0 }?.contains("memory_bytes is required") == true)
        #expect(problem { $0.memoryBytes = (256 << 20) + 1 }?.contains("whole number of MiB") == true)
        #expect(problem { $0.vcpus = 1000 }?.contains("vcpus") == true)
        #expect(problem { $0.virtType = "xen" }?.contains("virt_type") == true)
        #expect(problem { $0.machine = "pc'><x" }?.contains("machine type") == true)
        #expect(problem { $0.disks = [] }?.contains("nothing to boot") == true)
        #expect(problem { $0.disks.append(.with { $0.path = "relative.img" }) }?.contains("absolute") == true)
        #expect(problem { $0.disks.append(.with { $0.volume = .with { $0.pool = "p"; $0.volume = "a/b" } }) } != nil)
        #expect(problem { $0.nics = [.with { $0.network = "n"; $0.mac = "52:54:00:00:00:01" }, .with { $0.network = "m"; $0.mac = "52:54:00:00:00:01" }] }?
            .contains("more than one NIC") == true)
        #expect(problem { $0.nics = [.init()] }?.contains("no source") == true)
        #expect(problem { $0.kernel = .with { $0.kernel = .with { $0.pool = "p"; $0.volume = "k" }; $0.cmdline = "a\nb" } }?
            .contains("cmdline") == true)
        #expect(problem { $0.serial = .with { $0.kind = .file; $0.path = "log" } }?.contains("absolute") == true)
        // Targets are given out in order, after the ones taken.
        var spec = Self.machine("vht-targets")
        spec.disks = [
            .with { $0.volume = .with { $0.pool = "p"; $0.volume = "a" } },
            .with { $0.volume = .with { $0.pool = "p"; $0.volume = "b" }; $0.target = "vda" },
        ]
        #expect(try DomainSpecPlan(spec) { _ in false }.disks.map(\.target) == ["vdb", "vda"])
    }

    // MARK: Helpers

    static func dirPool(_ name: String, _ target: String) -> Virthost_V1_PoolSpec {
        .with {
            $0.name = name
            $0.targetPath = target
            $0.dir = .init()
        }
    }

    static func machine(_ name: String) -> Virthost_V1_DomainSpec {
        .with {
            $0.name = name
            $0.vcpus = 2
            $0.memoryBytes = 256 << 20
            $0.disks = [.with { $0.volume = .with { $0.pool = "demo-images"; $0.volume = "web-1.qcow2" } }]
            $0.nics = [.with { $0.network = "demo-isolated" }]
        }
    }

    /// The call's error, which must be a VirtHostError.
    func refusal(_ body: () async throws -> Void) async throws -> VirtHostError {
        do {
            try await body()
        } catch let error as VirtHostError {
            return error
        }
        Issue.record("the call succeeded")
        return VirtHostError(code: .unknown, message: "the call succeeded")
    }

    /// An agent on the demo host where this process is an operator, with a
    /// fresh storage root.
    func withOperatorAgent(
        bridges: Set<String> = [], _ body: (VirtHostClient, String) async throws -> Void
    ) async throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let root = HostPaths.resolve(folder)! + "/root"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var configuration = DaemonSettings(libvirtURI: DaemonHarness.demoURI, socketPath: folder + "/agent.sock", socketMode: 0o600)
        configuration.access = AccessPolicy(adminUIDs: [], operatorUIDs: [getuid()])
        configuration.access.confinement = Confinement(storageRoots: [root], operatorBridges: bridges)
        try await DaemonHarness.withAgent(configuration: configuration) { client, _ in try await body(client, root) }
    }
}

/// qcow2 headers that would make QEMU open other host files.
@Suite struct DiskImageHeaderTests {
    static func header(version: UInt32, backingOffset: UInt64, backingSize: UInt32, incompatible: UInt64 = 0) -> Data {
        var bytes = [UInt8](repeating: 0, count: 104)
        func put(_ value: UInt64, at offset: Int, width: Int) {
            for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(width - 1 - i))) }
        }
        bytes[0..<4] = [0x51, 0x46, 0x49, 0xfb]
        put(UInt64(version), at: 4, width: 4)
        put(backingOffset, at: 8, width: 8)
        put(UInt64(backingSize), at: 16, width: 4)
        put(incompatible, at: 72, width: 8)
        return Data(bytes)
    }

    @Test func backingFilesAndDataFilesAreFound() throws {
        let folder = try DaemonHarness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func reference(_ data: Data) -> String? {
            let path = folder + "/image"
            FileManager.default.createFile(atPath: path, contents: data)
            return DiskImageHeader.qcow2Reference(at: path)
        }
        #expect(reference(Self.header(version: 3, backingOffset: 0, backingSize: 0)) == nil)
        #expect(reference(Self.header(version: 2, backingOffset: 512, backingSize: 11))?.contains("backing file") == true)
        #expect(reference(Self.header(version: 3, backingOffset: 0, backingSize: 0, incompatible: 1 << 2))?.contains("data file") == true)
        #expect(reference(Self.header(version: 3, backingOffset: 0, backingSize: 0, incompatible: 1 << 0)) == nil, "dirty bit only")
        #expect(reference(Data(count: 104)) == nil, "not qcow2")
        #expect(DiskImageHeader.qcow2Reference(at: folder + "/missing") == nil)
    }
}
