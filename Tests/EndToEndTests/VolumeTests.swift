import Foundation
import GRPCCore
import Libvirt
import Testing
import VirtHostClient

/// Volumes through a real virthostd on qemu:///system: allocation measured on
/// the host's disk, a 64 MiB upload/download round trip, uploads cut off in
/// every way, resize, wipe and clone.
@Suite(.serialized, .enabled(if: TestBed.shouldRun, "needs root, libvirtd and the test guest; make test sets them up"))
struct VolumeTests {
    /// A running dir pool of this run, removed afterwards with its folder.
    /// Starts a 64 MiB upload, sends 8 MiB and gives up (the request stream
    /// fails): the call must fail and the volume must be gone soon after.
    static func expectAbandonedUploadLeavesNothing(_ client: VirtHostClient, pool: String, target: String) async throws {
        struct ClientGaveUp: Error {}
        let chunk = Data(repeating: 0x5A, count: 1 << 20)
        do {
            _ = try await client.call {
                try await client.storage.uploadVolume(requestProducer: { writer in
                    try await writer.write(.with {
                        $0.header = .with {
                            $0.volume = .volume(pool: pool, name: "dropped.raw")
                            $0.length = 64 << 20
                            $0.create = true
                        }
                    })
                    for _ in 0..<8 { try await writer.write(.with { $0.chunk = chunk }) }
                    throw ClientGaveUp()
                })
            }
            Issue.record("an upload whose client gave up succeeded (\(client.wire))")
        } catch {}
        var gone = false
        for _ in 0..<50 where !gone {
            gone = try await !client.listVolumes(pool: pool).contains { $0.name == "dropped.raw" }
                && !FileManager.default.fileExists(atPath: "\(target)/dropped.raw")
            if !gone { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(gone, "the volume of an upload cut off by its client is still there (\(client.wire))")
    }

    static func withDirPool(_ agent: AgentProcess, _ body: (String, String, PoolJanitor) async throws -> Void) async throws {
        try await StorageBed.withPools { janitor in
            let name = janitor.pool("vols")
            let target = try janitor.folder("vols", create: false)
            var spec = Virthost_V1_PoolSpec()
            spec.name = name
            spec.targetPath = target
            spec.dir = .init()
            _ = try await agent.client.definePool(spec, build: true, start: true)
            try await body(name, target, janitor)
        }
    }

    static func randomFile(_ path: String, bytes count: Int) throws {
        var generator = SystemRandomNumberGenerator()
        var data = Data(count: count)
        data.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for i in words.indices { words[i] = generator.next() }
        }
        guard FileManager.default.createFile(atPath: path, contents: data) else { throw TestBedError("cannot write \(path)") }
    }

    @Test func thinVolumesAllocateNothingAndPreallocatedOnesAllOfIt() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "vol-alloc")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        try await Self.withDirPool(agent) { pool, target, _ in
            let client = agent.client
            let gib: UInt64 = 1 << 30
            let cases: [(String, String, Virthost_V1_Allocation)] = [
                ("thin.raw", "raw", .thin), ("full.raw", "raw", .full), ("thin.qcow2", "qcow2", .thin),
                ("metadata.qcow2", "qcow2", .metadata), ("falloc.qcow2", "qcow2", .falloc), ("full.qcow2", "qcow2", .full),
            ]
            var report: [String] = []
            for (name, format, allocation) in cases {
                let volume = try await client.createVolume(pool: pool, name: name, capacity: gib, format: format, allocation: allocation)
                let onDisk = allocatedBytes("\(target)/\(name)")
                #expect(volume.capacity == gib, "\(name)")
                #expect(volume.format == format, "\(name)")
                // The agent reports what the host's disk says (st_blocks), not a promise.
                #expect(volume.allocation == onDisk, "\(name): agent \(volume.allocation) vs disk \(onDisk)")
                switch allocation {
                case .thin, .metadata:
                    #expect(onDisk < 1 << 20, "\(name) allocates \(onDisk) bytes")
                default:
                    #expect(onDisk >= gib, "\(name) allocates only \(onDisk) bytes")
                }
                report.append("\(name)=\(onDisk)")
            }
            print("end-to-end: 1 GiB volumes, bytes allocated on disk: \(report.joined(separator: " "))")
            for (name, _, _) in cases { try await client.deleteVolume(pool: pool, name: name) }
            #expect(try await client.listVolumes(pool: pool).isEmpty)
        }
        #expect(await agent.stop() == 0)
    }

    @Test func sixtyFourMiBRoundTripByteForByte() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "vol-transfer")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        try await Self.withDirPool(agent) { pool, target, janitor in
            let client = agent.client
            let work = try janitor.folder("transfer")
            let source = "\(work)/source.bin"
            let back = "\(work)/back.bin"
            try Self.randomFile(source, bytes: 64 << 20)
            let expected = try VirtHostClient.sha256(ofFile: source)

            var started = Date()
            let uploaded = try await client.uploadVolume(pool: pool, name: "image.raw", from: source, create: true)
            let uploadSeconds = Date().timeIntervalSince(started)
            #expect(uploaded.bytesWritten == 64 << 20)
            #expect(uploaded.sha256 == expected)
            #expect(uploaded.volume.capacity == 64 << 20)
            #expect(uploaded.volume.format == "raw")
            #expect(try VirtHostClient.sha256(ofFile: "\(target)/image.raw") == expected)

            started = Date()
            let downloaded = try await client.downloadVolume(pool: pool, name: "image.raw", to: back)
            let downloadSeconds = Date().timeIntervalSince(started)
            #expect(downloaded.bytesRead == 64 << 20)
            #expect(downloaded.sha256 == expected)
            #expect(FileManager.default.contents(atPath: back) == FileManager.default.contents(atPath: source))
            print(String(format: "end-to-end: 64 MiB upload %.2f s (%.1f MiB/s), download %.2f s (%.1f MiB/s)",
                         uploadSeconds, 64 / uploadSeconds, downloadSeconds, 64 / downloadSeconds))
            // No temporary file next to the download.
            #expect(try FileManager.default.contentsOfDirectory(atPath: work).sorted() == ["back.bin", "source.bin"])

            // Into an existing volume at an offset, then a window read back.
            try Self.randomFile("\(work)/patch.bin", bytes: 3 << 20)
            _ = try await client.uploadVolume(pool: pool, name: "image.raw", from: "\(work)/patch.bin", offset: 5 << 20)
            let window = try await client.downloadVolume(pool: pool, name: "image.raw", to: "\(work)/window.bin", offset: 5 << 20, length: 3 << 20)
            #expect(window.sha256 == (try VirtHostClient.sha256(ofFile: "\(work)/patch.bin")))

            // Past the end of a raw volume: refused before any byte moves.
            await expectFailure(.invalidArgument, "an upload past the end") {
                _ = try await client.uploadVolume(pool: pool, name: "image.raw", from: source, offset: 1 << 20)
            }
            // A download of a missing volume leaves no file at all.
            await expectFailure(.notFound, "download of a missing volume") {
                _ = try await client.downloadVolume(pool: pool, name: "missing.raw", to: "\(work)/missing.bin")
            }
            #expect(!(try FileManager.default.contentsOfDirectory(atPath: work)).contains { $0.contains("missing") })
        }
        #expect(await agent.stop() == 0)
    }

    /// An upload that creates its volume and does not complete leaves none.
    /// The same transfers over the agent's ttrpc socket: the upload is a
    /// client stream of Data frames, the download a server stream; a client
    /// that goes away mid-upload (ttrpc cannot cancel a stream: its
    /// connection closes) leaves no volume.
    @Test func transfersOverTTRPC() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "vol-ttrpc", ttrpc: true)
        defer { if agent.process.isRunning { agent.process.terminate() } }
        let client = try VirtHostClient(socketPath: try #require(agent.ttrpcSocketPath), wire: .ttrpc)
        defer { client.close() }
        try await Self.withDirPool(agent) { pool, target, janitor in
            let work = try janitor.folder("ttrpc")
            let source = "\(work)/source.bin"
            try Self.randomFile(source, bytes: 24 << 20)
            let expected = try VirtHostClient.sha256(ofFile: source)
            var started = Date()
            let uploaded = try await client.uploadVolume(pool: pool, name: "t.raw", from: source, create: true)
            let up = Date().timeIntervalSince(started)
            #expect(uploaded.bytesWritten == 24 << 20 && uploaded.sha256 == expected)
            #expect(try VirtHostClient.sha256(ofFile: "\(target)/t.raw") == expected)
            started = Date()
            let downloaded = try await client.downloadVolume(pool: pool, name: "t.raw", to: "\(work)/back.bin")
            let down = Date().timeIntervalSince(started)
            #expect(downloaded.bytesRead == 24 << 20 && downloaded.sha256 == expected)
            #expect(FileManager.default.contents(atPath: "\(work)/back.bin") == FileManager.default.contents(atPath: source))
            print(String(format: "end-to-end: ttrpc 24 MiB upload %.2f s (%.1f MiB/s), download %.2f s (%.1f MiB/s)",
                         up, 24 / up, down, 24 / down))
            // The same errors as over gRPC.
            await expectFailure(.notFound, "a ttrpc download of a missing volume") {
                _ = try await client.downloadVolume(pool: pool, name: "missing.raw", to: "\(work)/missing.bin")
            }
            #expect(!FileManager.default.fileExists(atPath: "\(work)/missing.bin"))
            // The client gives up midway.
            try await Self.expectAbandonedUploadLeavesNothing(client, pool: pool, target: target)
            // Networks read the same over both wires.
            #expect(try await client.listNetworks().map(\.name) == (try await agent.client.listNetworks().map(\.name)))
        }
    }

    @Test func uploadsCutOffLeaveNoPartialVolume() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "vol-cutoff")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        try await Self.withDirPool(agent) { pool, target, _ in
            let client = agent.client
            let chunk = Data(repeating: 0xA5, count: 1 << 20)
            @Sendable func header(_ name: String, create: Bool = true, sha: String = "") -> Virthost_V1_UploadVolumeRequest {
                .with {
                    $0.header = .with {
                        $0.volume = .volume(pool: pool, name: name)
                        $0.length = 64 << 20
                        $0.create = create
                        $0.sha256 = sha
                    }
                }
            }
            func volumeExists(_ name: String) async throws -> Bool {
                try await client.listVolumes(pool: pool).contains { $0.name == name }
            }

            // The client ends its stream after 8 of 64 MiB.
            let short = await expectFailure(.invalidArgument, "a short upload") {
                _ = try await client.call {
                    try await client.storage.uploadVolume(requestProducer: { writer in
                        try await writer.write(header("short.raw"))
                        for _ in 0..<8 { try await writer.write(.with { $0.chunk = chunk }) }
                    })
                }
            }
            #expect(short?.message.contains("8388608 of the 67108864") == true, "\(String(describing: short))")
            #expect(short?.message.contains("deleted") == true)
            #expect(try await !volumeExists("short.raw"))
            #expect(!FileManager.default.fileExists(atPath: "\(target)/short.raw"))

            // The client goes away midway (its request stream fails).
            try await Self.expectAbandonedUploadLeavesNothing(client, pool: pool, target: target)

            // Every byte arrives but the sha256 is not the announced one.
            let wrong = String(repeating: "0", count: 64)
            let mismatch = await expectFailure(.dataLoss, "an upload with the wrong sha256") {
                _ = try await client.call {
                    try await client.storage.uploadVolume(requestProducer: { writer in
                        try await writer.write(header("mismatch.raw", sha: wrong))
                        for _ in 0..<64 { try await writer.write(.with { $0.chunk = chunk }) }
                    })
                }
            }
            #expect(mismatch?.message.contains("deleted") == true)
            #expect(try await !volumeExists("mismatch.raw"))

            // Too many bytes.
            await expectFailure(.invalidArgument, "an upload longer than announced") {
                _ = try await client.call {
                    try await client.storage.uploadVolume(requestProducer: { writer in
                        try await writer.write(header("long.raw"))
                        for _ in 0..<65 { try await writer.write(.with { $0.chunk = chunk }) }
                    })
                }
            }
            #expect(try await !volumeExists("long.raw"))

            // Into an existing volume: the call fails and says the volume holds
            // a partial upload; the volume itself stays.
            _ = try await client.createVolume(pool: pool, name: "existing.raw", capacity: 64 << 20)
            let partial = await expectFailure(.invalidArgument, "a short upload into an existing volume") {
                _ = try await client.call {
                    try await client.storage.uploadVolume(requestProducer: { writer in
                        try await writer.write(header("existing.raw", create: false))
                        for _ in 0..<4 { try await writer.write(.with { $0.chunk = chunk }) }
                    })
                }
            }
            #expect(partial?.message.contains("not the upload") == true, "\(String(describing: partial))")
            #expect(try await volumeExists("existing.raw"))

            // A volume name that is a path, and a name that exists already.
            await expectFailure(.invalidArgument, "an upload named like a path") {
                _ = try await client.call {
                    try await client.storage.uploadVolume(requestProducer: { writer in try await writer.write(header("../escape.raw")) })
                }
            }
            await expectFailure(.alreadyExists, "an upload that would create an existing volume") {
                _ = try await client.call {
                    try await client.storage.uploadVolume(requestProducer: { writer in try await writer.write(header("existing.raw")) })
                }
            }
            try await client.deleteVolume(pool: pool, name: "existing.raw")
            #expect(try await client.listVolumes(pool: pool).isEmpty)
        }
        #expect(await agent.stop() == 0)
    }

    @Test func resizeWipeAndClone() async throws {
        try TestBed.requireAvailable()
        let agent = try AgentProcess(name: "vol-change")
        defer { if agent.process.isRunning { agent.process.terminate() } }
        try await Self.withDirPool(agent) { pool, target, janitor in
            let client = agent.client
            let work = try janitor.folder("change")
            try Self.randomFile("\(work)/head.bin", bytes: 1 << 20)
            let head = try VirtHostClient.sha256(ofFile: "\(work)/head.bin")
            _ = try await client.createVolume(pool: pool, name: "data.raw", capacity: 16 << 20)
            _ = try await client.uploadVolume(pool: pool, name: "data.raw", from: "\(work)/head.bin")

            // Grow; shrink only when asked.
            #expect(try await client.resizeVolume(pool: pool, name: "data.raw", capacity: 32 << 20).capacity == 32 << 20)
            let refused = await expectFailure(.invalidArgument, "a shrink without allow_shrink") {
                _ = try await client.resizeVolume(pool: pool, name: "data.raw", capacity: 8 << 20)
            }
            #expect(refused?.message.contains("allow_shrink") == true)
            #expect(try await client.volume(pool: pool, name: "data.raw").capacity == 32 << 20)
            #expect(try await client.resizeVolume(pool: pool, name: "data.raw", capacity: 8 << 20, allowShrink: true).capacity == 8 << 20)
            let grown = try await client.resizeVolume(pool: pool, name: "data.raw", capacity: 24 << 20, allocate: true)
            #expect(grown.allocation >= 24 << 20 - (1 << 20), "allocate left \(grown.allocation) bytes")

            // Clone: same bytes under a new name.
            let clone = try await client.cloneVolume(pool: pool, source: "data.raw", newName: "copy.raw")
            #expect(clone.capacity == 24 << 20)
            #expect(clone.path == "\(target)/copy.raw")
            let copied = try await client.downloadVolume(pool: pool, name: "copy.raw", to: "\(work)/copy.bin", length: 1 << 20)
            #expect(copied.sha256 == head)
            await expectFailure(.alreadyExists, "a clone onto an existing name") {
                _ = try await client.cloneVolume(pool: pool, source: "data.raw", newName: "copy.raw")
            }

            // Wipe raw: zeros where the data was.
            _ = try await client.wipeVolume(pool: pool, name: "data.raw")
            _ = try await client.downloadVolume(pool: pool, name: "data.raw", to: "\(work)/wiped.bin", length: 1 << 20)
            #expect(FileManager.default.contents(atPath: "\(work)/wiped.bin") == Data(count: 1 << 20))

            // Wipe qcow2: still a valid, empty qcow2 of the same capacity.
            _ = try await client.createVolume(pool: pool, name: "img.qcow2", capacity: 64 << 20, format: "qcow2")
            let wiped = try await client.wipeVolume(pool: pool, name: "img.qcow2")
            #expect(wiped.format == "qcow2")
            #expect(wiped.capacity == 64 << 20)
            let info = try StorageBed.sh("qemu-img", "info", "--output=json", "\(target)/img.qcow2")
            #expect(info.contains("\"format\": \"qcow2\"") && info.contains("\"virtual-size\": 67108864"), "\(info)")

            for name in ["data.raw", "copy.raw", "img.qcow2"] { try await client.deleteVolume(pool: pool, name: name) }
            await expectFailure(.notFound, "delete of a deleted volume") { try await client.deleteVolume(pool: pool, name: "data.raw") }
        }
        #expect(await agent.stop() == 0)
    }
}
