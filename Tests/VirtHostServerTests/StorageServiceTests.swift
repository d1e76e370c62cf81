import Foundation
import GRPCCore
import Testing
import VirtHostClient
@testable import VirtHostServer

/// StorageService over a real socket against libvirt's test driver (the demo
/// host): pool lifecycle, volumes, and every kind of bad input refused with a
/// clear error that changes nothing.
@Suite struct StorageServiceTests {
    @Test func dirPoolFromASpecIsDefinedStartedAndReadBack() async throws {
        try await DaemonHarness.withAgent { client, _ in
            var spec = Virthost_V1_PoolSpec()
            spec.name = "vhu-dir"
            spec.targetPath = "/srv/vhu-dir"
            spec.mode = 0o711
            spec.dir = .init()
            let pool = try await client.definePool(spec, start: true, autostart: true)
            #expect(pool.name == "vhu-dir")
            #expect(pool.type == "dir")
            #expect(pool.state == .running)
            #expect(pool.autostart)
            #expect(pool.persistent)
            #expect(pool.targetPath == "/srv/vhu-dir")
            #expect(pool.spec.dir == .init())
            #expect(pool.spec.mode == 0o711)
            #expect(pool.spec.targetPath == "/srv/vhu-dir")
            #expect(pool.spec.uuid == pool.uuid)
            let xml = try await client.poolXML("vhu-dir")  // the test driver has no --inactive
            #expect(xml.contains("<path>/srv/vhu-dir</path>"))

            #expect(try await client.stopPool("vhu-dir").state == .inactive)
            #expect(try await client.setPoolAutostart("vhu-dir", false).autostart == false)
            #expect(try await client.startPool("vhu-dir").state == .running)
            _ = try await client.refreshPool("vhu-dir")
            _ = try await client.stopPool("vhu-dir")
            try await client.undefinePool("vhu-dir")
            let gone = await DaemonHarness.error { _ = try await client.pool("vhu-dir") }
            #expect(gone?.code == .notFound)
        }
    }

    @Test func rawXMLIsTheEscapeHatch() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let pool = try await client.definePool(
                xml: "<pool type='dir'><name>vhu-raw</name><target><path>/srv/vhu-raw</path></target></pool>")
            #expect(pool.state == .inactive)
            #expect(pool.spec.targetPath == "/srv/vhu-raw")
            let bad = await DaemonHarness.error { _ = try await client.definePool(xml: "<domain/>") }
            #expect(bad?.code == .invalidArgument)
        }
    }

    @Test func volumesAreCreatedListedResizedClonedAndDeleted() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let created = try await client.createVolume(pool: "demo-images", name: "vhu-a.qcow2", capacity: 1 << 30, format: "qcow2")
            #expect(created.name == "vhu-a.qcow2")
            #expect(created.capacity == 1 << 30)
            #expect(created.pool == "demo-images")
            #expect(try await client.listVolumes(pool: "demo-images").map(\.name).contains("vhu-a.qcow2"))
            #expect(try await client.volume(pool: "demo-images", name: "vhu-a.qcow2").capacity == 1 << 30)

            let exists = await DaemonHarness.error {
                _ = try await client.createVolume(pool: "demo-images", name: "vhu-a.qcow2", capacity: 1 << 20)
            }
            #expect(exists?.code == .alreadyExists)

            let shrink = await DaemonHarness.error {
                _ = try await client.resizeVolume(pool: "demo-images", name: "vhu-a.qcow2", capacity: 1 << 20)
            }
            #expect(shrink?.code == .invalidArgument)
            #expect(shrink?.message.contains("allow_shrink") == true)

            let clone = try await client.cloneVolume(pool: "demo-images", source: "vhu-a.qcow2", newName: "vhu-b.qcow2")
            #expect(clone.name == "vhu-b.qcow2")
            try await client.deleteVolume(pool: "demo-images", name: "vhu-b.qcow2")
            try await client.deleteVolume(pool: "demo-images", name: "vhu-a.qcow2")
            let names = try await client.listVolumes(pool: "demo-images").map(\.name)
            #expect(!names.contains("vhu-a.qcow2") && !names.contains("vhu-b.qcow2"))
        }
    }

    @Test func badInputIsRefusedAndChangesNothing() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let before = try await client.listVolumes(pool: "demo-images").map(\.name)
            let cases: [(String, String, UInt64, RPCError.Code)] = [
                ("demo-images", "a/b", 1 << 20, .invalidArgument),
                ("demo-images", "..", 1 << 20, .invalidArgument),
                ("demo-images", ".", 1 << 20, .invalidArgument),
                ("demo-images", "nul\0byte", 1 << 20, .invalidArgument),
                ("demo-images", "", 1 << 20, .invalidArgument),
                ("demo-images", "zero.raw", 0, .invalidArgument),
                ("demo-images", "huge.raw", UInt64.max, .invalidArgument),
                ("demo-images", "huge.raw", UInt64(Int64.max) + 1, .invalidArgument),
                ("no-such-pool", "x.raw", 1 << 20, .notFound),
            ]
            for (pool, name, size, code) in cases {
                let error = await DaemonHarness.error { _ = try await client.createVolume(pool: pool, name: name, capacity: size) }
                #expect(error?.code == code, "\(pool)/\(name.debugDescription) \(size): \(String(describing: error))")
                #expect(error?.message.isEmpty == false)
            }
            // More than the pool has, allocated up front.
            let full = await DaemonHarness.error {
                _ = try await client.createVolume(pool: "demo-images", name: "too-big.raw", capacity: 1 << 50, allocation: .full)
            }
            #expect(full?.code == .resourceExhausted, "\(String(describing: full))")
            #expect(full?.message.contains("available") == true)
            // metadata preallocation is for qcow2 only.
            let metadata = await DaemonHarness.error {
                _ = try await client.createVolume(pool: "demo-images", name: "m.raw", capacity: 1 << 20, allocation: .metadata)
            }
            #expect(metadata?.code == .invalidArgument)
            #expect(try await client.listVolumes(pool: "demo-images").map(\.name) == before)
        }
    }

    @Test func badPoolSpecsAndRefsAreRefused() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let before = try await client.listPools().map(\.name)
            var spec = Virthost_V1_PoolSpec()
            spec.name = "vhu-bad"
            let noKind = await DaemonHarness.error { _ = try await client.definePool(spec) }
            #expect(noKind?.code == .invalidArgument)
            spec.dir = .init()
            let noTarget = await DaemonHarness.error { _ = try await client.definePool(spec) }
            #expect(noTarget?.code == .invalidArgument)
            #expect(noTarget?.message.contains("target_path") == true)
            spec.targetPath = "/srv/x"
            let overwrite = await DaemonHarness.error { _ = try await client.definePool(spec, overwrite: true) }
            #expect(overwrite?.code == .invalidArgument)
            let missing = await DaemonHarness.error { _ = try await client.startPool("no-such-pool") }
            #expect(missing?.code == .notFound)
            #expect(missing?.message.contains("no-such-pool") == true)
            #expect(try await client.listPools().map(\.name) == before)
        }
    }

    @Test func anUploadThatCannotRunLeavesNoVolume() async throws {
        // The test driver has no volume streams: an upload that created its
        // volume must delete it again when the transfer cannot start.
        try await DaemonHarness.withAgent { client, socket in
            let file = URL(fileURLWithPath: socket).deletingLastPathComponent().appendingPathComponent("payload.bin").path
            FileManager.default.createFile(atPath: file, contents: Data(repeating: 7, count: 4096))
            let error = await DaemonHarness.error {
                _ = try await client.uploadVolume(pool: "demo-images", name: "vhu-upload.raw", from: file, create: true)
            }
            #expect(error != nil)
            let names = try await client.listVolumes(pool: "demo-images").map(\.name)
            #expect(!names.contains("vhu-upload.raw"))
        }
    }

    @Test func uploadHeadersAreChecked() async throws {
        try await DaemonHarness.withAgent { client, _ in
            func upload(_ messages: [Virthost_V1_UploadVolumeRequest]) async -> VirtHostError? {
                await DaemonHarness.error {
                    _ = try await client.call {
                        try await client.storage.uploadVolume(requestProducer: { writer in
                            for message in messages { try await writer.write(message) }
                        })
                    }
                }
            }
            let chunkFirst = await upload([.with { $0.chunk = Data([1, 2, 3]) }])
            #expect(chunkFirst?.code == .invalidArgument)
            let noLength = await upload([.with { $0.header = .with { $0.volume = .volume(pool: "demo-images", name: "web-1.qcow2") } }])
            #expect(noLength?.code == .invalidArgument)
            let badSha = await upload([.with {
                $0.header = .with {
                    $0.volume = .volume(pool: "demo-images", name: "web-1.qcow2")
                    $0.length = 3
                    $0.sha256 = "abc"
                }
            }])
            #expect(badSha?.code == .invalidArgument)
            let slash = await upload([.with {
                $0.header = .with {
                    $0.volume = .volume(pool: "demo-images", name: "../etc/passwd")
                    $0.length = 3
                }
            }])
            #expect(slash?.code == .invalidArgument)
        }
    }

    @Test func diskRequestsAreCheckedBeforeLibvirt() async throws {
        try await DaemonHarness.withAgent { client, _ in
            let noSource = await DaemonHarness.error {
                _ = try await client.call { try await client.domains.attachDisk(.with { $0.domain = .named("web-1") }) }
            }
            #expect(noSource?.code == .invalidArgument)
            let badTarget = await DaemonHarness.error {
                _ = try await client.attachDisk(domain: "web-1", source: .path("/srv/a.img"), target: "hda")
            }
            #expect(badTarget?.code == .invalidArgument)
            let noDisk = await DaemonHarness.error { _ = try await client.detachDisk(domain: "web-1", target: "vdq", config: true) }
            #expect(noDisk?.code == .notFound)
            #expect(noDisk?.message.contains("vdq") == true)
        }
    }
}
