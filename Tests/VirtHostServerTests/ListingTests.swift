import Foundation
import Libvirt
import Testing
@testable import VirtHostServer

/// Lists skip objects that vanish between the list call and their details.
@Suite struct ListingTests {
    @Test func vanishedObjectsAreSkippedOtherErrorsAreNot() throws {
        let gone = LibvirtError(code: .noStorageVolume, domain: .storage, message: "no storage vol with matching name 'b'")
        let listed = try Listing.live(["a", "b", "c"]) { name -> String in
            if name == "b" { throw gone }
            return name.uppercased()
        }
        #expect(listed == ["A", "C"])
        for code: LibvirtError.Code in [.noDomain, .noNetwork, .noStoragePool] {
            #expect(try Listing.live([1, 2]) { n -> Int in
                if n == 1 { throw LibvirtError(code: code, domain: .none, message: "gone") }
                return n
            } == [2])
        }
        #expect(throws: LibvirtError.self) {
            _ = try Listing.live([1]) { _ -> Int in throw LibvirtError(code: .internalError, domain: .none, message: "internal error") }
        }
    }
}

/// The list caches reuse a derived value only for an equal source.
@Suite struct ListCacheTests {
    @Test func derivedValuesAreReusedOnlyForTheSameSource() throws {
        let cache = DerivedCache<String, Int>(capacity: 3)
        var derivations = 0
        func derive(_ source: String) -> Int {
            derivations += 1
            return source.count
        }
        #expect(cache.value("u1", from: "<a/>", derive: derive) == 4)
        #expect(cache.value("u1", from: "<a/>", derive: derive) == 4)
        #expect(derivations == 1)
        #expect(cache.value("u1", from: "<ab/>", derive: derive) == 5)
        #expect(derivations == 2)
        #expect(cache.value("u1", from: "<a/>") == nil)
        // Past its capacity the cache starts over instead of growing.
        for key in ["u2", "u3"] { cache.remember(key, from: "x", 1) }
        #expect(cache.count == 3)
        cache.remember("u4", from: "x", 1)
        #expect(cache.count == 1)
        #expect(cache.value("u4", from: "x") == 1 && cache.value("u2", from: "x") == nil)
    }

    @Test func fileIdentityMovesWithEveryChangeAndIgnoresNonFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vht-identity-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/v.img"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(count: 4096)))
        let first = try #require(FileIdentity(path))
        #expect(FileIdentity(path) == first)
        // Same size, new bytes: mtime and ctime move.
        let file = try #require(FileHandle(forWritingAtPath: path))
        try file.write(contentsOf: Data(repeating: 1, count: 16))
        try file.close()
        let written = try #require(FileIdentity(path))
        #expect(written != first && written.size == first.size)
        // Renamed over by another file: the inode moves.
        #expect(FileManager.default.createFile(atPath: path + ".new", contents: Data(count: 4096)))
        #expect(rename(path + ".new", path) == 0)
        #expect(FileIdentity(path).map { $0.inode != written.inode } == true)
        // Symlinks, folders and missing paths have no identity: always asked.
        #expect(symlink(path, folder + "/link") == 0)
        #expect(FileIdentity(folder + "/link") == nil)
        #expect(FileIdentity(folder) == nil)
        #expect(FileIdentity(folder + "/missing") == nil)
    }
}

/// A changed file volume's details follow from its stat (and qcow2 header)
/// only where libvirt's own answer would, and only within the pool epoch
/// they were read in.
@Suite struct VolumeFollowingTests {
    /// A qcow2 header: magic, version, and the virtual size at offset 24.
    static func qcow2Header(version: UInt32 = 3, size: UInt64) -> Data {
        var bytes = [UInt8](repeating: 0, count: 512)
        bytes.replaceSubrange(0..<4, with: [0x51, 0x46, 0x49, 0xfb])
        bytes.replaceSubrange(4..<8, with: (0..<4).map { UInt8(truncatingIfNeeded: version >> (24 - 8 * $0)) })
        bytes.replaceSubrange(24..<32, with: (0..<8).map { UInt8(truncatingIfNeeded: size >> (56 - 8 * $0)) })
        return Data(bytes)
    }

    @Test func qcow2HeadersAreParsedOnlyWhenTheyAreOnes() {
        let header = [UInt8](Self.qcow2Header(size: 16 << 20))
        #expect(QCOW2Header.parse(header) == 16 << 20)
        #expect(QCOW2Header.parse([UInt8](Self.qcow2Header(version: 2, size: 0))) == 0)
        #expect(QCOW2Header.parse([UInt8](Self.qcow2Header(version: 4, size: 1))) == nil)
        var broken = header
        broken[3] = 0
        #expect(QCOW2Header.parse(broken) == nil)
        #expect(QCOW2Header.parse(Array(header.prefix(31))) == nil)
    }

    @Test func changedFilesFollowTheirFormatWithinAnEpoch() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vht-follow-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cache = DerivedCache<VolumeSource, VolumeDetails>()
        func file(_ name: String, _ contents: Data) throws -> (String, FileIdentity) {
            let path = "\(folder)/\(name)"
            #expect(FileManager.default.createFile(atPath: path, contents: contents))
            return (path, try #require(FileIdentity(path)))
        }
        func append(_ path: String, _ bytes: Int) throws -> FileIdentity {
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(repeating: 7, count: bytes))
            try handle.close()
            return try #require(FileIdentity(path))
        }
        // What libvirt said (from the XML) in epoch 1.
        let (raw, rawBefore) = try file("a.raw", Data(count: 4096))
        cache.remember(raw, from: VolumeSource(file: rawBefore, epoch: 1), VolumeDetails(type: "file", capacity: 4096, allocation: 4096, format: "raw"))
        let (qcow, qcowBefore) = try file("b.qcow2", Self.qcow2Header(size: 16 << 20))
        cache.remember(qcow, from: VolumeSource(file: qcowBefore, epoch: 1), VolumeDetails(type: "file", capacity: 16 << 20, allocation: 4096, format: "qcow2"))
        var others: [(String, FileIdentity)] = []
        for (name, details) in [
            ("c.qcow2", VolumeDetails(type: "file", capacity: 1 << 20, allocation: 4096, format: "qcow2", encrypted: true)),
            ("d.vmdk", VolumeDetails(type: "file", capacity: 1 << 20, allocation: 4096, format: "vmdk")),
            ("e.img", VolumeDetails(type: "file", capacity: 4096, allocation: 4096, format: nil)),
        ] {
            let (path, identity) = try file(name, Data(count: 4096))
            cache.remember(path, from: VolumeSource(file: identity, epoch: 1), details)
            others.append((path, try append(path, 4096)))
        }

        // Unchanged: the same answer, in its epoch only.
        #expect(VolumeListing.details(raw, rawBefore, epoch: 1, cache: cache)?.capacity == 4096)
        #expect(VolumeListing.details(raw, rawBefore, epoch: 2, cache: cache) == nil)
        // Raw grown: capacity is the size, allocation the blocks.
        let rawAfter = try append(raw, 8192)
        let grown = try #require(VolumeListing.details(raw, rawAfter, epoch: 1, cache: cache))
        #expect(grown.capacity == 12_288 && grown.allocation == UInt64(rawAfter.blocks) * 512 && grown.format == "raw")
        #expect(cache.value(raw, from: VolumeSource(file: rawAfter, epoch: 1)) == grown)
        // qcow2 resized: the header's virtual size; a header that is no
        // longer one, or an image without its size, is asked.
        let handle = try #require(FileHandle(forWritingAtPath: qcow))
        try handle.write(contentsOf: Self.qcow2Header(size: 32 << 20))
        try handle.close()
        let qcowAfter = try #require(FileIdentity(qcow))
        #expect(VolumeListing.details(qcow, qcowAfter, epoch: 1, cache: cache)?.capacity == 32 << 20)
        #expect(VolumeListing.details(qcow, qcowAfter, epoch: 2, cache: cache) == nil)
        let spoiled = try #require(FileHandle(forWritingAtPath: qcow))
        try spoiled.write(contentsOf: Data("not a header".utf8))
        try spoiled.close()
        #expect(VolumeListing.details(qcow, try #require(FileIdentity(qcow)), epoch: 1, cache: cache) == nil)
        // Encrypted, another format, no format known: asked.
        for (path, identity) in others {
            #expect(VolumeListing.details(path, identity, epoch: 1, cache: cache) == nil, "\(path)")
        }
        // Another file at the path (a new inode): asked.
        #expect(FileManager.default.createFile(atPath: raw + ".new", contents: Data(count: 4096)))
        #expect(rename(raw + ".new", raw) == 0)
        #expect(VolumeListing.details(raw, try #require(FileIdentity(raw)), epoch: 1, cache: cache) == nil)
    }

    @Test func poolEventsAndReconnectsMoveTheEpochs() {
        let caches = ListCaches()
        let a = caches.poolEpochs.epoch("a"), b = caches.poolEpochs.epoch("b")
        caches.note(.poolRefresh(name: "a", uuid: ""))
        #expect(caches.poolEpochs.epoch("a") > a && caches.poolEpochs.epoch("b") == b)
        let refreshed = caches.poolEpochs.epoch("a")
        caches.note(.poolLifecycle(name: "a", uuid: "", event: 2, detail: 0))
        #expect(caches.poolEpochs.epoch("a") > refreshed)
        caches.note(.networkLifecycle(name: "a", uuid: "", event: 2, detail: 0))
        let started = caches.poolEpochs.epoch("a")
        #expect(caches.poolEpochs.epoch("a") == started)
        caches.poolEpochs.advanceAll()
        #expect(caches.poolEpochs.epoch("a") > started && caches.poolEpochs.epoch("b") > b)
        // A connection without events: every read its own epoch.
        caches.poolEpochs.advanceAll(watching: false)
        let blind = caches.poolEpochs.epoch("a")
        #expect(caches.poolEpochs.epoch("a") > blind)
        caches.poolEpochs.advanceAll()
        let seeing = caches.poolEpochs.epoch("a")
        #expect(caches.poolEpochs.epoch("a") == seeing)
    }
}
