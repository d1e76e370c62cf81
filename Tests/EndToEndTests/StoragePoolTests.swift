import Foundation
import LibXML
import Libvirt
import Testing
import VirtHostClient

/// Pools of every kind through a real virthostd on qemu:///system: dir, fs on
/// a loop device formatted ext4, and disk on a partitioned loop device for
/// real; netfs, logical, iscsi, scsi (NPIV too), gluster and rbd defined,
/// read back field by field against libvirt's own XML, and started to check
/// that this host's missing backends give a clear error, not a hang.
@Suite(.serialized, .enabled(if: TestBed.shouldRun, "needs root, libvirtd and the test guest; make test sets them up"))
struct StoragePoolTests {
    @Test func dirPoolLifecycleAndCapabilities() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "pool-dir")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        try await StorageBed.withPools { janitor in
            let client = agent.client
            let name = janitor.pool("dir")
            let target = try janitor.folder("dir", create: false)
            var spec = Virthost_V1_PoolSpec()
            spec.name = name
            spec.targetPath = target
            spec.mode = 0o751
            spec.ownerUid = 0
            spec.ownerGid = 0
            spec.dir = .init()

            let pool = try await client.definePool(spec, build: true, start: true)
            #expect(pool.state == .running)
            #expect(pool.type == "dir")
            #expect(pool.capacity > 0 && pool.available > 0 && pool.available <= pool.capacity)
            var expected = spec
            expected.uuid = pool.uuid
            #expect(pool.spec == expected)
            // The build made the folder with the mode asked for.
            let attributes = try FileManager.default.attributesOfItem(atPath: target)
            #expect((attributes[.posixPermissions] as? NSNumber)?.uint16Value == 0o751)
            // libvirt agrees, field by field.
            let direct = try Connection.open(TestBed.uri)
            let xml = try XMLDocument(xmlString: try direct.lookupStoragePool(name: name).xml(inactive: true), options: [])
            #expect(try xml.nodes(forXPath: "/pool/target/path").first?.stringValue == target)
            #expect(try xml.nodes(forXPath: "/pool/target/permissions/mode").first?.stringValue == "0751")
            #expect(try xml.nodes(forXPath: "/pool/uuid").first?.stringValue == pool.uuid)
            let info = try direct.lookupStoragePool(name: name).info()
            #expect(info.capacity == pool.capacity)

            #expect(try await client.setPoolAutostart(name, true).autostart)
            #expect(try direct.lookupStoragePool(name: name).autostart())
            #expect(try await client.setPoolAutostart(name, false).autostart == false)
            FileManager.default.createFile(atPath: "\(target)/\(TestBed.prefix)seen.raw", contents: Data(count: 4096))
            #expect(try await client.refreshPool(name).volumeCount == 1)
            try FileManager.default.removeItem(atPath: "\(target)/\(TestBed.prefix)seen.raw")
            #expect(try await client.stopPool(name).state == .inactive)
            await expectFailure(.failedPrecondition, "refresh of a stopped pool") { _ = try await client.refreshPool(name) }
            try await client.deletePool(name)
            #expect(!FileManager.default.fileExists(atPath: target))
            try await client.undefinePool(name)
            await expectFailure(.notFound, "pool after undefine") { _ = try await client.pool(name) }

            // Which pool types this host supports: as libvirt says, with the
            // rbd and gluster backends host-deps.sh installs.
            let capabilities = try await client.poolCapabilities()
            let libvirtXML = try direct.storagePoolCapabilities()
            let supported = try XMLDocument(xmlString: libvirtXML, options: [])
                .nodes(forXPath: "/storagepoolCapabilities/pool[@supported='yes']/@type").compactMap(\.stringValue)
            #expect(capabilities.types.filter(\.supported).map(\.type) == supported)
            for kind in ["dir", "fs", "netfs", "disk", "logical", "iscsi", "scsi", "rbd", "gluster"] {
                #expect(capabilities.types.first { $0.type == kind }?.supported == true, "\(kind) unsupported on this host")
            }
            #expect(capabilities.types.first { $0.type == "fs" }?.sourceFormats.contains("ext4") == true)
            #expect(capabilities.types.first { $0.type == "disk" }?.sourceFormats.contains("gpt") == true)
            #expect(capabilities.types.first { $0.type == "dir" }?.volumeFormats.contains("qcow2") == true)
        }
        #expect(await agent.stop() == 0)
    }

    @Test func fsPoolOnAnExt4LoopDevice() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "pool-fs")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        try await StorageBed.withPools { janitor in
            try await StorageBed.withLoopDevice("fs", size: 128 << 20) { device in
                let client = agent.client
                let name = janitor.pool("fs")
                let target = try janitor.folder("fs-mnt")
                var spec = Virthost_V1_PoolSpec()
                spec.name = name
                spec.targetPath = target
                spec.fs = .with {
                    $0.device = device
                    $0.format = "ext4"
                }
                let pool = try await client.definePool(spec, build: true, overwrite: true, start: true)
                #expect(pool.state == .running)
                #expect(pool.spec.fs.device == device && pool.spec.fs.format == "ext4")
                // Started means mounted: the loop device with ext4 on the target.
                let mount = try StorageBed.sh("findmnt", "-rn", "-o", "SOURCE,FSTYPE", target)
                #expect(mount == "\(device) ext4")
                #expect(pool.capacity > 100 << 20 && pool.capacity < 128 << 20)

                let volume = try await client.createVolume(pool: name, name: "a.qcow2", capacity: 1 << 30, format: "qcow2")
                #expect(volume.path == "\(target)/a.qcow2")
                #expect(volume.format == "qcow2")
                #expect(FileManager.default.fileExists(atPath: "\(target)/a.qcow2"))

                // More than the file system holds, allocated now: refused, nothing left.
                let tooBig = await expectFailure(.resourceExhausted, "a preallocated volume larger than the pool") {
                    _ = try await client.createVolume(pool: name, name: "big.raw", capacity: 1 << 30, allocation: .full)
                }
                #expect(tooBig?.message.contains("available") == true)
                #expect(!FileManager.default.fileExists(atPath: "\(target)/big.raw"))
                // A thin one may overcommit, as with virsh.
                let thin = try await client.createVolume(pool: name, name: "thin.raw", capacity: 1 << 30)
                #expect(thin.allocation < 1 << 20)

                try await client.deleteVolume(pool: name, name: "a.qcow2")
                try await client.deleteVolume(pool: name, name: "thin.raw")
                _ = try await client.stopPool(name)
                #expect((try? StorageBed.sh("findmnt", "-rn", target)) == nil || (try? StorageBed.sh("findmnt", "-rn", target)) == "")
                try await client.undefinePool(name)
            }
        }
        #expect(await agent.stop() == 0)
    }

    @Test func diskPoolOnAPartitionedLoopDevice() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "pool-disk")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        try await StorageBed.withPools { janitor in
            try await StorageBed.withLoopDevice("disk", size: 128 << 20) { device in
                let client = agent.client
                let name = janitor.pool("disk")
                var spec = Virthost_V1_PoolSpec()
                spec.name = name
                spec.disk = .with {
                    $0.device = device
                    $0.format = "gpt"
                }
                let pool = try await client.definePool(spec, build: true, overwrite: true, start: true)
                #expect(pool.state == .running)
                #expect(pool.targetPath == "/dev")
                #expect(pool.spec.disk.format == "gpt")
                #expect(try StorageBed.sh("parted", "-s", device, "print").contains("Partition Table: gpt"))

                // libvirt names partitions itself; a different name is refused
                // before libvirt makes a partition it would then disown.
                let base = URL(fileURLWithPath: device).lastPathComponent
                let wrong = await expectFailure(.invalidArgument, "a partition with a name of our choosing") {
                    _ = try await client.createVolume(pool: name, name: "data", capacity: 16 << 20)
                }
                #expect(wrong?.message.contains("\(base)p1") == true)
                #expect(try await client.refreshPool(name).volumeCount == 0)

                let partition = try await client.createVolume(pool: name, name: "\(base)p1", capacity: 32 << 20)
                #expect(partition.type == "block")
                #expect(partition.path == "/dev/\(base)p1")
                #expect(partition.capacity >= 32 << 20 && partition.capacity < 33 << 20)
                #expect(FileManager.default.fileExists(atPath: "/dev/\(base)p1"))

                // Bytes in and out of the partition, checked by sha256.
                let file = try janitor.folder("disk-payload", create: true) + "/payload.bin"
                var bytes = [UInt8](repeating: 0, count: 1 << 20)
                for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
                FileManager.default.createFile(atPath: file, contents: Data(bytes))
                let sent = try await client.uploadVolume(pool: name, name: "\(base)p1", from: file)
                let back = try await client.downloadVolume(pool: name, name: "\(base)p1", to: file + ".back", length: 1 << 20)
                #expect(back.sha256 == sent.sha256)
                #expect(FileManager.default.contents(atPath: file + ".back") == Data(bytes))

                // libvirt 9.0 cannot delete a partition of a loop device (its
                // parted call names the partition wrongly): report, not hide.
                do {
                    try await client.deleteVolume(pool: name, name: "\(base)p1")
                    print("end-to-end: disk pool volume delete on \(device) worked")
                } catch let error as VirtHostError {
                    print("end-to-end: disk pool volume delete on \(device) failed as known for libvirt 9.0: \(error)")
                    #expect(error.message.contains("Partition doesn't exist") || error.message.contains("parted"))
                }
                _ = try await client.stopPool(name)
                try await client.undefinePool(name)
            }
        }
        #expect(await agent.stop() == 0)
    }

    /// A kind this host cannot run, its spec, and what libvirt's XML must say.
    struct RemoteKind: Sendable, CustomStringConvertible {
        var label: String
        var spec: @Sendable (String, String) -> Virthost_V1_PoolSpec
        /// XPath -> expected value, checked on libvirt's own XML.
        var fields: [String: String]
        var description: String { label }
    }

    static let remoteKinds: [RemoteKind] = [
        RemoteKind(label: "netfs", spec: { name, folder in
            .with {
                $0.name = name
                $0.targetPath = folder
                $0.netfs = .with {
                    $0.host = "127.0.0.1"
                    $0.exportPath = "/exports/vm"
                    $0.format = "nfs"
                }
            }
        }, fields: ["/pool/@type": "netfs", "/pool/source/host/@name": "127.0.0.1", "/pool/source/dir/@path": "/exports/vm",
                    "/pool/source/format/@type": "nfs"]),
        RemoteKind(label: "logical", spec: { name, _ in
            .with {
                $0.name = name
                $0.logical = .with {
                    $0.volumeGroup = name
                    $0.devices = ["/dev/loop200"]
                }
            }
        }, fields: ["/pool/@type": "logical", "/pool/source/device/@path": "/dev/loop200", "/pool/source/format/@type": "lvm2"]),
        RemoteKind(label: "iscsi", spec: { name, _ in
            .with {
                $0.name = name
                $0.iscsi = .with {
                    $0.host = "127.0.0.1"
                    $0.port = 3260
                    $0.targetIqn = "iqn.2024-01.org.example:storage"
                    $0.initiatorIqn = "iqn.2024-01.org.example:client"
                }
            }
        }, fields: ["/pool/@type": "iscsi", "/pool/source/host/@name": "127.0.0.1", "/pool/source/host/@port": "3260",
                    "/pool/source/device/@path": "iqn.2024-01.org.example:storage",
                    "/pool/source/initiator/iqn/@name": "iqn.2024-01.org.example:client",
                    "/pool/target/path": "/dev/disk/by-path"]),
        RemoteKind(label: "scsi", spec: { name, _ in
            .with {
                $0.name = name
                $0.scsi = .with { $0.adapter = "host99" }
            }
        }, fields: ["/pool/@type": "scsi", "/pool/source/adapter/@type": "scsi_host", "/pool/source/adapter/@name": "host99"]),
        RemoteKind(label: "scsi-npiv", spec: { name, _ in
            .with {
                $0.name = name
                $0.scsi = .with {
                    $0.wwnn = "20000000c9831b4b"
                    $0.wwpn = "10000000c9831b4b"
                }
            }
        }, fields: ["/pool/@type": "scsi", "/pool/source/adapter/@type": "fc_host",
                    "/pool/source/adapter/@wwnn": "20000000c9831b4b", "/pool/source/adapter/@wwpn": "10000000c9831b4b"]),
        RemoteKind(label: "gluster", spec: { name, _ in
            .with {
                $0.name = name
                $0.gluster = .with {
                    $0.host = "127.0.0.1"
                    $0.volume = "gv0"
                    $0.folder = "/images"
                }
            }
        }, fields: ["/pool/@type": "gluster", "/pool/source/host/@name": "127.0.0.1", "/pool/source/name": "gv0",
                    "/pool/source/dir/@path": "/images"]),
        RemoteKind(label: "rbd", spec: { name, _ in
            .with {
                $0.name = name
                $0.rbd = .with {
                    $0.monitors = ["127.0.0.1:6789", "127.0.0.2"]
                    $0.pool = "vms"
                    $0.authUser = "libvirt"
                    $0.secretUuid = "2ec115d7-3a88-4ad4-9e8f-2c8a2b8f4e11"
                }
            }
        }, fields: ["/pool/@type": "rbd", "/pool/source/name": "vms", "/pool/source/host[1]/@name": "127.0.0.1",
                    "/pool/source/host[1]/@port": "6789", "/pool/source/host[2]/@name": "127.0.0.2",
                    "/pool/source/auth/@username": "libvirt",
                    "/pool/source/auth/secret/@uuid": "2ec115d7-3a88-4ad4-9e8f-2c8a2b8f4e11"]),
    ]

    @Test(arguments: remoteKinds)
    func kindsThisHostCannotRunAreDefinedReadBackAndFailClearly(_ kind: RemoteKind) async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "pool-\(kind.label)")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        try await StorageBed.withPools { janitor in
            let client = agent.client
            let name = janitor.pool(kind.label)
            let folder = try janitor.folder("\(kind.label)-mnt")
            let spec = kind.spec(name, folder)

            let pool = try await client.definePool(spec)
            #expect(pool.state == .inactive)
            #expect(pool.persistent)
            // Read back through the agent: the same spec, with libvirt's uuid
            // and the target path it defaults.
            var expected = spec
            expected.uuid = pool.uuid
            if expected.targetPath.isEmpty { expected.targetPath = pool.spec.targetPath }
            #expect(pool.spec == expected)
            // ...and field by field in libvirt's own XML.
            let xml = try XMLDocument(
                xmlString: try Connection.open(TestBed.uri).lookupStoragePool(name: name).xml(inactive: true), options: [])
            for (path, value) in kind.fields {
                #expect(try xml.nodes(forXPath: path).first?.stringValue == value, "\(kind.label): \(path)")
            }

            // Starting needs what this kernel or host lacks: a clear error, soon.
            let started = Date()
            // The code depends on the backend (internal, invalid configuration,
            // missing secret); the message must say what is missing.
            let error = await AgentHarnessError.any { _ = try await client.startPool(name) }
            let seconds = Date().timeIntervalSince(started)
            print("end-to-end: \(kind.label) start failed in \(String(format: "%.2f", seconds)) s: \(error?.description ?? "-")")
            #expect(seconds < 35)
            #expect((error?.message.count ?? 0) > 20)
            if kind.label == "gluster" {
                // Refused by the agent before libvirt: a failed gluster connection
                // crashes libvirtd about two minutes later on this host.
                #expect(error?.code == .unavailable)
                #expect(error?.message.contains("127.0.0.1:24007 does not answer") == true)
            } else {
                #expect(error?.libvirtCode != nil)
            }
            #expect(try await client.pool(name).state == .inactive)

            // define + start in one call that fails leaves no definition.
            try await client.undefinePool(name)
            var again = spec
            again.name = janitor.pool("\(kind.label)-2")
            _ = await AgentHarnessError.any { _ = try await client.definePool(again, start: true) }
            await expectFailure(.notFound, "\(kind.label): the pool whose start failed") { _ = try await client.pool(again.name) }
        }
        #expect(await agent.stop() == 0)
    }
}

enum AgentHarnessError {
    /// Runs a call that is expected to fail, returning its error.
    static func any(_ body: () async throws -> Void) async -> VirtHostError? {
        do {
            try await body()
            Issue.record("the call succeeded")
            return nil
        } catch let error as VirtHostError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }
}
