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
